package app

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// staticFiles serves the static files from the bucket the stack publishes (static/bucket),
// read through the app's role: from load-balanced on the files live in a private bucket that
// Block Public Access keeps private, and the fleet's nginx passes /static/ to the app, so the
// path a browser takes keeps working from the rung that moved the files there.
type staticFiles struct {
	client *s3.Client
	bucket string
}

// newStaticFiles returns the bucket's reader; nil without a bucket (before load-balanced the
// box's nginx serves /static/ from its disk).
func newStaticFiles(env Env, bucket string) *staticFiles {
	if bucket == "" {
		return nil
	}
	return &staticFiles{bucket: bucket, client: s3.NewFromConfig(env.AWS, func(o *s3.Options) {
		// A local S3 stand-in (AWS_ENDPOINT_URL_S3) takes path-style requests.
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	})}
}

// serveStatic answers GET and HEAD /static/{path...} from the bucket: the object's type,
// length, ETag and Cache-Control (an hour where the upload set none), 304 on a matching
// If-None-Match, 404 for a key that is not there.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	st := s.tiers.Load().static
	key := r.PathValue("path")
	switch {
	case st == nil:
		fail(w, http.StatusNotFound, "this rung serves no static files from the app")
		return
	case key == "" || strings.Contains(key, "..") || path.Clean("/"+key) != "/"+key:
		fail(w, http.StatusBadRequest, "a static file's path must be a clean relative path")
		return
	}
	s.serveObject(w, r, st, key, "public, max-age=3600")
}

// serveSite answers a request for the single-page app's hostname from its bucket: a path
// with a file extension is that file; any other (the app's client-side routes, and /) is
// index.html, revalidated on every use so that a deploy shows at once.
func (s *Server) serveSite(w http.ResponseWriter, r *http.Request, st *staticFiles) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		notAllowed(w, "GET, HEAD")
		return
	}
	clean := path.Clean("/" + r.URL.Path)
	if path.Ext(clean) == "" {
		s.serveObject(w, r, st, "index.html", "no-cache")
		return
	}
	s.serveObject(w, r, st, strings.TrimPrefix(clean, "/"), "public, max-age=3600")
}

// serveObject answers from a bucket's object: its type, length, ETag and Cache-Control (the
// given one where the upload set none), 304 on a matching If-None-Match, 404 for a key that is
// not there.
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, st *staticFiles, key, cacheControl string) {
	in := &s3.GetObjectInput{Bucket: aws.String(st.bucket), Key: aws.String(key)}
	if v := r.Header.Get("If-None-Match"); v != "" {
		in.IfNoneMatch = aws.String(v)
	}
	out, err := st.client.GetObject(r.Context(), in)
	if err != nil {
		s.staticError(w, r, err)
		return
	}
	defer out.Body.Close()
	h := w.Header()
	ctype := aws.ToString(out.ContentType)
	if ctype == "" || ctype == "binary/octet-stream" {
		if t := mime.TypeByExtension(path.Ext(key)); t != "" {
			ctype = t
		}
	}
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cacheControl)
	if cc := aws.ToString(out.CacheControl); cc != "" {
		h.Set("Cache-Control", cc)
	}
	if out.ETag != nil {
		h.Set("ETag", *out.ETag)
	}
	if out.ContentLength != nil {
		h.Set("Content-Length", strconv.FormatInt(*out.ContentLength, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, out.Body)
	}
}

// staticError answers a failed read of the bucket.
func (s *Server) staticError(w http.ResponseWriter, r *http.Request, err error) {
	var missing *types.NoSuchKey
	var api smithy.APIError
	switch {
	case errors.As(err, &missing), errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey"):
		fail(w, http.StatusNotFound, "no static file "+r.PathValue("path"))
	case errors.As(err, &api) && api.ErrorCode() == "NotModified":
		w.WriteHeader(http.StatusNotModified)
	case errors.Is(err, context.Canceled):
	default:
		s.log.Error("reading a static file", "path", r.PathValue("path"), "err", err)
		fail(w, http.StatusServiceUnavailable, "static files unavailable")
	}
}
