// Starts the vendored Swagger UI on /api/v1/docs (no inline script, nothing from a CDN). In the browser the
// session is used, so unsafe requests carry the CSRF token; a personal access token can be entered under
// "Authorize" instead.
(function () {
  "use strict";
  var body = document.body;
  SwaggerUIBundle({
    url: body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      if (body.dataset.csrfToken) {
        request.headers["X-CSRFToken"] = body.dataset.csrfToken;
      }
      return request;
    },
  });
})();
