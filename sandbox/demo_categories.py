"""The demo shop's categories, one name each in both languages (the demo's own suppliers and
its upstream's products are shelved in the same ones, as an operator would shelve them)."""

GAMES = "游戏点卡 Game cards"
VIDEO = "视频会员 Video"
SOFTWARE = "软件 Software"
