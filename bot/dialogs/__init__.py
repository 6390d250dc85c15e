"""The multi-step conversations (aiogram-dialog); `bot.setup` includes every dialog explicitly."""
