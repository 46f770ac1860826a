"""The engagement dashboards: a landing page, one dashboard per community (filtered to the viewer's spaces for
space moderators), the all-communities overview for analysts, CSV downloads per figure and the points policy.

Who sees what is decided in analytics/permissions.py (404 for anyone who may see no figures); the figures come
from analytics/metrics.py, which reads the roll-ups only. Templates get ready values and booleans.
"""

from analytics.views.dashboards import community_dashboard, dashboard_index, overview_dashboard
from analytics.views.points import points_policy

__all__ = ["community_dashboard", "dashboard_index", "overview_dashboard", "points_policy"]
