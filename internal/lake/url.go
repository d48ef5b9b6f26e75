package lake

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Location is a lake URL, parsed and checked without opening anything.
type Location struct {
	// Scheme is "file" (a path or file:// URL) or "gs".
	Scheme string
	// Path is the lake's folder for a file lake, as written (a relative path stays relative).
	Path string
	// Bucket and Prefix name a gs:// lake; Prefix has no leading or trailing slash.
	Bucket, Prefix string
}

// looksLikeScheme matches a URL scheme written without "//" (gs:bucket, s3:x), which would
// otherwise be taken for a relative folder named "gs:bucket".
var looksLikeScheme = regexp.MustCompile(`^(?i)(file|gs|gcs|s3|s3a|http|https|az|abfs|abfss|hdfs):`)

// gcsBucket is Google Cloud Storage's bucket naming rule: 3 to 63 characters (222 with dots)
// of lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit
// (https://cloud.google.com/storage/docs/buckets#naming).
var gcsBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)

// ParseURL checks a lake URL the way Open reads it: a plain path (relative or absolute), a
// file:// URL whose host is empty or localhost (file:///srv/lake, file://localhost/srv/lake),
// or gs://bucket/prefix. Anything else wraps ErrBadLakeURL with what to write instead; config
// validation and Open share it, so `config check` rejects every URL a run would reject.
func ParseURL(lakeURL string) (Location, error) {
	bad := func(format string, args ...any) (Location, error) {
		return Location{}, fmt.Errorf("lake %q: %w: %s", lakeURL, ErrBadLakeURL, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(lakeURL) == "" {
		return bad("none given")
	}
	if !strings.Contains(lakeURL, "://") {
		if m := looksLikeScheme.FindString(lakeURL); m != "" {
			return bad("%q looks like a URL scheme without '//' (write %s//...; a folder whose name starts with %q needs ./ in front)", m, m, m)
		}
		return Location{Scheme: "file", Path: lakeURL}, nil
	}
	u, err := url.Parse(lakeURL)
	if err != nil {
		return bad("%v", err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return bad("a lake URL takes no user, query or fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			rest := strings.TrimPrefix(lakeURL[len(u.Scheme)+3:], "/")
			return bad("a file URL's host must be empty or localhost, got %q (write %s for a folder relative to the working directory, or file:///%s for an absolute one)", u.Host, rest, rest)
		}
		if u.Path == "" || u.Path == "/" {
			return bad("name a folder, as in file:///var/lib/segpipe")
		}
		return Location{Scheme: "file", Path: u.Path}, nil
	case "gs":
		if u.Host == "" {
			return bad("name a bucket, as in gs://my-bucket/segpipe")
		}
		if !gcsBucket.MatchString(u.Host) || strings.Contains(u.Host, "..") || (!strings.Contains(u.Host, ".") && len(u.Host) > 63) {
			return bad("%q is not a Cloud Storage bucket name (3-63 lower-case letters, digits, '-', '_' or '.', starting and ending with a letter or digit)", u.Host)
		}
		prefix := strings.Trim(u.Path, "/")
		if prefix != "" && CheckKey(prefix) != nil {
			return bad("the prefix %q is not a clean path (no '.', '..' or empty segments)", prefix)
		}
		return Location{Scheme: "gs", Bucket: u.Host, Prefix: prefix}, nil
	default:
		return bad("unknown scheme %q (use a path, file:///abs/path or gs://bucket/prefix; other object stores are not supported)", u.Scheme)
	}
}
