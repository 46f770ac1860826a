"""Date and time formats per language (``FORMAT_MODULE_PATH``), over Django's own.

Templates use the format names (``|date:"DATE_FORMAT"``), so each language shows dates its own way: English
keeps the site's compact day-month-year with a 24-hour clock; French writes the month in full.
"""
