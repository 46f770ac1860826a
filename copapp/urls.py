from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from copapp import views
from copapp.api import urls as api_urls

# A body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 with a page, not 400; allauth's rate limits use our 429 page.
handler400 = "copapp.views.bad_request"
handler429 = "copapp.views.too_many_requests"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urls())),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("search/", include("spaces.urls_search")),
    path("analytics/", include("analytics.urls")),
    path("", include("members.urls")),
    path("", include("communities.urls")),
    path("", include("spaces.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
