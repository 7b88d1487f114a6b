// ReDoc over /api/v1/openapi.json.
(function () {
  "use strict";
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.specUrl, { hideDownloadButton: false, expandResponses: "200" }, root);
})();
