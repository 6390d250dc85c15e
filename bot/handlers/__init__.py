"""Commands and menus (plain aiogram routers); each module's `make_router()` builds a fresh
Router, and `bot.setup` includes them in order."""
