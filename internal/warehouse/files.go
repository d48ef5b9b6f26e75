package warehouse

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Files is the set of SQL files one run reads: the built-in sql/ tree, the staging models
// generated for generic sources and the files of the config's models folder, by path
// (staging/<source>/stg_accounts.sql, marts/<name>.sql, tests/assert_<name>.sql, ...). A file
// added at a path that exists replaces it; Origin says where each file came from.
type Files struct {
	data   map[string][]byte
	origin map[string]string
}

// Built-in origin of the files of sql/.
const OriginBuiltIn = "built-in"

// NewFiles copies every file of base (origin built-in).
func NewFiles(base fs.FS) (*Files, error) {
	f := &Files{data: map[string][]byte{}, origin: map[string]string{}}
	err := fs.WalkDir(base, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(base, p)
		if err != nil {
			return err
		}
		f.data[p], f.origin[p] = b, OriginBuiltIn
		return nil
	})
	return f, err
}

// Add puts a file at p, replacing one there, and returns the origin it replaced ("" for none).
func (f *Files) Add(p string, content []byte, origin string) string {
	old := f.origin[p]
	f.data[p], f.origin[p] = content, origin
	return old
}

// Origin says where the file at p came from: OriginBuiltIn, "generated from ..." or the path of
// a file of the models folder ("" when there is no such file).
func (f *Files) Origin(p string) string { return f.origin[p] }

// Open implements fs.FS.
func (f *Files) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok := f.data[name]; ok {
		return &memFile{name: path.Base(name), r: strings.NewReader(string(b)), size: int64(len(b))}, nil
	}
	entries, err := f.ReadDir(name)
	if err != nil {
		return nil, err
	}
	return &memDir{name: path.Base(name), entries: entries}, nil
}

// ReadFile implements fs.ReadFileFS.
func (f *Files) ReadFile(name string) ([]byte, error) {
	b, ok := f.data[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(b), nil
}

// ReadDir implements fs.ReadDirFS.
func (f *Files) ReadDir(name string) ([]fs.DirEntry, error) {
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	seen := map[string]fs.DirEntry{}
	for p, b := range f.data {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if dir, _, nested := strings.Cut(rest, "/"); nested {
			seen[dir] = memEntry{name: dir, dir: true}
		} else {
			seen[rest] = memEntry{name: rest, size: int64(len(b))}
		}
	}
	if len(seen) == 0 && name != "." {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

type memEntry struct {
	name string
	dir  bool
	size int64
}

func (e memEntry) Name() string               { return e.name }
func (e memEntry) IsDir() bool                { return e.dir }
func (e memEntry) Type() fs.FileMode          { return e.Mode().Type() }
func (e memEntry) Info() (fs.FileInfo, error) { return e, nil }
func (e memEntry) Size() int64                { return e.size }
func (e memEntry) ModTime() time.Time         { return time.Time{} }
func (e memEntry) Sys() any                   { return nil }
func (e memEntry) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

type memFile struct {
	name string
	r    *strings.Reader
	size int64
}

func (m *memFile) Stat() (fs.FileInfo, error) { return memEntry{name: m.name, size: m.size}, nil }
func (m *memFile) Read(b []byte) (int, error) { return m.r.Read(b) }
func (m *memFile) Close() error               { return nil }

type memDir struct {
	name    string
	entries []fs.DirEntry
	off     int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return memEntry{name: d.name, dir: true}, nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *memDir) Close() error { return nil }
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
