// Swagger UI for /docs, with the bearer token the web page stored (if any) on every request,
// the OpenAPI document included.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  persistAuthorization: true,
  requestInterceptor: (request) => {
    const token = localStorage.getItem("rag-token");
    if (token && !request.headers.Authorization) request.headers.Authorization = "Bearer " + token;
    return request;
  },
});
