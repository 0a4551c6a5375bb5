// Package webassets holds the static files the node's web pages share (the
// explorer's and the testnet dashboard's): the style sheet, the script that
// keeps pages live through Server-Sent Events, and vendored third-party
// files (static/vendor/README.md lists them with their versions and
// licenses). Everything is embedded: pages never fetch from a CDN and work
// offline.
//
// It imports nothing of the module, so that both the node's servers and
// the testnet tool (a client of nodes) may use it.
package webassets

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Prefix is the path the files are served under.
const Prefix = "/static/"

// FS returns the files, rooted at the static folder.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}

// Favicon serves the pages' icon, for browsers that ask /favicon.ico
// whatever the page says.
func Favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeFileFS(w, r, FS(), "favicon.svg")
}

// Handler serves the files under Prefix. Vendored files carry their
// version in their path, so they may be cached for good; the project's own
// are revalidated.
func Handler() http.Handler {
	fsrv := http.StripPrefix(Prefix, http.FileServerFS(FS()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix+"vendor/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		fsrv.ServeHTTP(w, r)
	})
}
