"""Words and formats the bot shows: refusals (reasons), names of things (labels), and dates,
money, phones and countdowns in the reader's language (formats)."""
