"""What an operator sees of a running Kameng: metrics and the log's context (issue 12)."""
