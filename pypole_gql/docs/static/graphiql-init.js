// GraphiQL against this server's /graphql. Headers (e.g. Authorization) typed into the
// headers tab are kept in this browser's local storage.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  var defaultQuery = [
    "# PyPole GQL: run with Ctrl-Enter or the play button.",
    "# Log in with the `login` mutation and put the access token in the Headers tab as",
    '# {"Authorization": "Bearer <accessToken>"} to ask for `me`.',
    "query NextRace {",
    "  nextRace {",
    "    season",
    "    round",
    "    name",
    "    date",
    "    circuit { name country }",
    "  }",
    "}",
    "",
  ].join("\n");
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: true,
    })
  );
})();
