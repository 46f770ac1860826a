# English as the site has always shown it: "3 Mar 2025", "3 Mar 2025, 14:05" (Django's English default is US style).
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
