// YASGUI at /sparql (server/pages/query_editor.py). Loaded only when `make editor` installed it;
// without JavaScript, or without YASGUI, the page keeps its plain form (#plain-query).
//
// Nothing here may reach another host: prefixes come from this app (prefixCcApi), the class
// and property autocompleters (which ask lov.linkeddata.es) are left out, the endpoint list
// holds this endpoint only, and no CORS proxy is set.
(function () {
  "use strict";

  function readConfig() {
    var holder = document.getElementById("editor");
    return holder ? JSON.parse(holder.getAttribute("data-config")) : null;
  }

  // The server's own rendering of the answer under the editor: rows with the label of each
  // IRI beside it (one extra query for all labels), the bar chart or why there is none, and
  // errors in plain words at their line and column. The query runs once more on the server.
  function serverView(config, getQuery) {
    function ServerView(yasr) {
      this.yasr = yasr;
      this.priority = 30;
      this.label = config.viewLabel;
    }
    ServerView.prototype.canHandleResults = function () {
      return !!this.yasr.results;
    };
    ServerView.prototype.getIcon = function () {
      var icon = document.createElement("span");
      icon.textContent = "▤";
      return icon;
    };
    ServerView.prototype.draw = function () {
      var target = this.yasr.resultsEl;
      var address = new URL(config.endpoint, window.location.href);
      address.search = new URLSearchParams({
        query: getQuery(),
        lang: config.lang,
        view: "results",
      }).toString();
      return window
        .fetch(address.toString(), { headers: { Accept: "text/html" } })
        .then(function (response) {
          return response.text();
        })
        .then(function (html) {
          var parsed = new DOMParser().parseFromString(html, "text/html");
          var view = document.createElement("div");
          view.className = "server-view";
          while (parsed.body.firstChild) {
            view.appendChild(document.adoptNode(parsed.body.firstChild));
          }
          target.textContent = "";
          target.appendChild(view);
        });
    };
    return ServerView;
  }

  function start() {
    var config = readConfig();
    var Yasgui = window.Yasgui;
    var mount = document.getElementById("editor");
    if (!config || !Yasgui || !mount) {
      return; // the plain form stays
    }
    var endpoint = new URL(config.endpoint, window.location.href).href;
    var yasgui = null;
    function currentQuery() {
      return yasgui ? yasgui.getTab().getYasqe().getValue() : config.query;
    }
    Yasgui.Yasr.registerPlugin("server", serverView(config, currentQuery));
    // YASQE's own syntax check marks every prefix no PREFIX line declares; the endpoint
    // declares its default prefixes itself, so its parser state starts out knowing them.
    var Yasqe = Yasgui.Yasqe;
    Yasqe.defineMode("sparql11-dcdr", function (options) {
      var base = Yasqe.getMode(options, "sparql11");
      var mode = Object.create(base);
      mode.startState = function () {
        var state = base.startState();
        state.prefixes = Object.assign({}, config.prefixes);
        return state;
      };
      return mode;
    });
    var firstQuery = config.query || (config.examples[0] ? config.examples[0].query : "");
    mount.hidden = false;
    yasgui = new Yasgui(mount, {
      requestConfig: { endpoint: endpoint, method: "POST" },
      copyEndpointOnNewTab: true,
      endpointCatalogueOptions: {
        getData: function () {
          return [{ endpoint: endpoint }];
        },
      },
      corsProxy: undefined,
      persistenceId: null,
      populateFromUrl: false,
      autofocus: false,
      tabName: config.tabName,
      yasqe: {
        value: firstQuery,
        mode: "sparql11-dcdr",
        autocompleters: ["prefixes", "variables"],
        prefixCcApi: new URL(config.prefixesUrl, window.location.href).href,
        persistenceId: null,
      },
      yasr: {
        prefixes: config.prefixes,
        defaultPlugin: "server",
        pluginOrder: ["server", "table", "response"],
        persistenceId: null,
      },
    });
    window.dcdrEditor = yasgui;
    document.getElementById("plain-query").hidden = true;
    if (config.query) {
      yasgui.getTab().query();
    }
    // The ready queries open in tabs of their own (or in the tab that already holds them).
    var links = document.querySelectorAll("a.example[data-name]");
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function (event) {
        var ready = config.examples.find(function (candidate) {
          return candidate.name === link.getAttribute("data-name");
        });
        if (!ready) {
          return;
        }
        event.preventDefault();
        var tab = yasgui.addTab(
          true,
          { name: ready.title, yasqe: { value: ready.query } },
          { avoidDuplicateTabs: true },
        );
        yasgui.selectTabId(tab.getId());
        mount.scrollIntoView();
        tab.query();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
