import Mustache

/// The page's Mustache templates. They live in the binary (not in resource files) so `hoard` stays
/// one file to install; `{{name}}` is HTML-escaped by swift-mustache, and no template uses the
/// unescaped forms (`{{{ }}}`, `{{& }}`), so nothing from a repodata document or the query
/// reaches the page as markup.
enum WebTemplates {
    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        <style>
        {{> style}}
        </style>
        </head>
        <body>
        <header>
          <h1><a href="/">hoard</a></h1>
          <p class="muted">conda and OCI cache, version {{version}}</p>
        </header>
        <main>
        {{#message}}<p class="message" id="message">{{.}}</p>{{/message}}
        {{#listing}}{{> listing}}{{/listing}}
        {{^listing}}
        {{#stats}}{{> stats}}{{/stats}}
        {{> channels}}
        {{#oci}}{{> oci}}{{/oci}}
        {{/listing}}
        </main>
        </body>
        </html>

        """

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
        header h1 { margin: 0; display: inline-block; } header h1 a { color: inherit; text-decoration: none; }
        header p { display: inline-block; margin-left: 1rem; }
        .muted { color: #666; }
        table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
        th, td { text-align: left; padding: .25rem .75rem; border-bottom: 1px solid #ddd; vertical-align: top; }
        td.num, th.num { text-align: right; }
        code, .sha { font-family: ui-monospace, monospace; font-size: .85em; }
        .cached { color: #0a6b2f; font-weight: 600; } .absent { color: #888; }
        .message { background: #fff3cd; padding: .5rem .75rem; border: 1px solid #e0c060; }
        nav.pages a, nav.pages span { margin-right: 1rem; }
        form { margin: .75rem 0; } input[type=search] { width: 20rem; }
        """

    static let stats = """
        <section id="stats">
        <h2>Store</h2>
        <table>
          <tr><th>Blobs</th><td class="num">{{blobs}}</td></tr>
          <tr><th>Bytes</th><td class="num" title="{{bytesExact}} bytes">{{bytes}}</td></tr>
          <tr><th>Conda packages held</th><td class="num">{{packages}}</td></tr>
          <tr><th>Package bytes</th><td class="num">{{packageBytes}}</td></tr>
          {{#maxSize}}<tr><th>Size limit</th><td class="num">{{.}}</td></tr>{{/maxSize}}
          <tr><th>Root</th><td><code>{{root}}</code></td></tr>
        </table>
        </section>
        """

    static let channels = """
        <section id="channels">
        <h2>Channels</h2>
        {{#channels}}
        <h3 id="channel-{{name}}">{{name}}{{#isProtected}} <span class="protected">(protected)</span>{{/isProtected}}</h3>
        {{#locked}}<p class="absent">Protected: send this channel's credentials (a token as <code>/t/&lt;TOKEN&gt;/</code> or <code>Authorization: Bearer</code>, or a reader's Basic credentials) to see it.</p>{{/locked}}
        {{^locked}}
        <p class="muted">from <code>{{upstream}}</code></p>
        {{#hasSubdirs}}
        <table>
          <thead><tr><th>Subdir</th><th>Repodata</th><th class="num">Packages held</th><th class="num">Bytes held</th></tr></thead>
          <tbody>
          {{#subdirs}}
          <tr class="subdir">
            <td><a href="{{href}}">{{display}}</a></td>
            <td>{{#hasRepodata}}held{{/hasRepodata}}{{^hasRepodata}}<span class="absent">not fetched</span>{{/hasRepodata}}</td>
            <td class="num">{{files}}</td>
            <td class="num">{{bytes}}</td>
          </tr>
          {{/subdirs}}
          </tbody>
        </table>
        {{/hasSubdirs}}
        {{^hasSubdirs}}<p class="absent">Nothing fetched yet: point a client at <code>/{{name}}</code>.</p>{{/hasSubdirs}}
        {{/locked}}
        {{/channels}}
        </section>
        """

    static let oci = """
        <section id="oci">
        <h2>OCI repositories</h2>
        {{#hasRepositories}}
        <table>
          <thead><tr><th>Repository</th><th>Tags</th></tr></thead>
          <tbody>
          {{#repositories}}
          <tr class="repository"><td><code>{{name}}</code></td>
            <td>{{#tags}}<code class="tag">{{.}}</code> {{/tags}}{{#moreTags}}<span class="muted">and {{.}} more</span>{{/moreTags}}{{^hasTags}}<span class="absent">no tags</span>{{/hasTags}}</td></tr>
          {{/repositories}}
          </tbody>
        </table>
        {{#moreRepositories}}<p class="muted">and {{.}} more repositories</p>{{/moreRepositories}}
        {{/hasRepositories}}
        {{^hasRepositories}}<p class="absent">No repository pushed or mirrored into this hoard.</p>{{/hasRepositories}}
        {{#hasRegistries}}
        <p>Pull-through registries: {{#registries}}<code>/v2/{{name}}/…</code> from <code>{{url}}</code>; {{/registries}}</p>
        {{/hasRegistries}}
        </section>
        """

    static let listing = """
        <section id="listing">
        <p><a href="/">All channels</a> › {{channel}}{{#label}} › label {{.}}{{/label}} › {{subdir}}</p>
        <h2>{{channel}}/{{path}}</h2>
        <form method="get" action="/">
          <input type="hidden" name="channel" value="{{channel}}">
          {{#label}}<input type="hidden" name="label" value="{{.}}">{{/label}}
          <input type="hidden" name="subdir" value="{{subdir}}">
          <input type="search" name="q" value="{{search}}" placeholder="package name contains…" aria-label="search package names">
          <button type="submit">Search</button>
        </form>
        {{#hasRepodata}}
        <p id="summary">{{matchingFiles}} files of {{matchingNames}} packages{{#search}} matching “{{.}}”{{/search}} (of {{totalFiles}} files, {{totalNames}} packages); page {{page}} of {{pages}}.</p>
        {{> pager}}
        <table id="packages">
          <thead><tr><th>Name</th><th>Version</th><th>Build</th><th>File</th><th class="num">Size</th><th>sha256</th><th>Cached</th></tr></thead>
          <tbody>
          {{#rows}}
          <tr class="package" data-filename="{{filename}}">
            <td>{{name}}</td>
            <td>{{version}}</td>
            <td>{{build}}</td>
            <td>{{#href}}<a class="download" href="{{.}}">{{filename}}</a>{{/href}}{{^href}}{{filename}}{{/href}}</td>
            <td class="num" title="{{sizeExact}} bytes">{{size}}</td>
            <td class="sha">{{sha256}}</td>
            <td>{{#cached}}<span class="cached">cached</span>{{/cached}}{{^cached}}<span class="absent">not cached</span>{{/cached}}</td>
          </tr>
          {{/rows}}
          </tbody>
        </table>
        {{> pager}}
        {{/hasRepodata}}
        {{^hasRepodata}}<p class="absent">hoard holds no repodata for this subdir yet: it is fetched when a client first asks for <code>/{{channel}}/{{path}}/repodata.json</code>.</p>{{/hasRepodata}}
        </section>
        """

    static let pager = """
        <nav class="pages">{{#previous}}<a rel="prev" href="{{.}}">← previous</a>{{/previous}}{{#next}}<a rel="next" href="{{.}}">next →</a>{{/next}}</nav>
        """

    /// The library with `page` and its partials; the templates are constants, so a parse
    /// failure is a bug caught by the tests, reported rather than trapped.
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in [("page", page), ("style", style), ("stats", stats), ("channels", channels), ("oci", oci), ("listing", listing), ("pager", pager)] {
            try library.register(text, named: name)
        }
        return library
    }
}
