package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// FileStore keeps the lake in a local directory. Writes go to a temporary file in the
// target directory, are synced, then renamed into place, so they are atomic.
type FileStore struct {
	root string
}

// NewFileStore opens (and creates) a lake rooted at dir.
func NewFileStore(dir string) (*FileStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o777); err != nil {
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	return &FileStore{root: abs}, nil
}

// Root is the lake's directory.
func (s *FileStore) Root() string { return s.root }

// URL names the store.
func (s *FileStore) URL() string { return "file://" + s.root }

// LocalPath is the file holding the object at key.
func (s *FileStore) LocalPath(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// Put writes the object atomically (temporary file, fsync, rename).
func (s *FileStore) Put(ctx context.Context, key string, r io.Reader) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	dst := s.LocalPath(key)
	tmp, err := createTempBeside(dst)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	// CreateTemp makes the file 0600; an object is a file like any other (0666 less the
	// umask, 0644 by default), so a BI tool running as another user can read latest/.
	err = tmp.Chmod(filePerm)
	var n int64
	if err == nil {
		n, err = io.Copy(tmp, ctxReader{ctx, r})
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		cleanup()
		return ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	st, err := os.Stat(dst)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	_ = n
	return fileInfo(key, st), nil
}

// createTempBeside creates a temporary file in dst's folder, making the folders. A Delete of
// another object in the same folders prunes those it leaves empty (removeEmptyParents), and
// can remove one between MkdirAll and CreateTemp (or inside MkdirAll, between another Put
// making it and MkdirAll checking it); both are then tried again. Once the
// temporary file is in it, the folder is not empty and stays.
func createTempBeside(dst string) (*os.File, error) {
	dir := filepath.Dir(dst)
	var err error
	for range 10 {
		if err = os.MkdirAll(dir, 0o777); err == nil {
			var tmp *os.File
			if tmp, err = os.CreateTemp(dir, ".tmp-"+filepath.Base(dst)+"-*"); err == nil {
				return tmp, nil
			}
		}
		// MkdirAll answers "file exists" when a folder it found missing was made by another Put
		// and pruned again by a Delete before it could look: that is the same race.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}

// filePerm is the mode of every object file: 0666 less the process's umask, as for a file
// that os.Create makes. The umask is read once, when the package loads, before any goroutine
// of ours could create a file while it is briefly changed.
var filePerm = func() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return 0o666 &^ os.FileMode(m)
}()

// fileInfo describes a file; its generation is its modification time in nanoseconds, which
// every Put changes (the file is replaced by a rename of a new one).
func fileInfo(key string, st fs.FileInfo) ObjectInfo {
	return ObjectInfo{Key: key, Size: st.Size(), Updated: st.ModTime(), Generation: st.ModTime().UnixNano()}
}

// Get opens the object at key.
func (s *FileStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.LocalPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close() // a folder is not an object (as in Stat)
		return nil, fmt.Errorf("get %s: %w", key, ErrNotExist)
	}
	return f, nil
}

// Stat describes the object at key.
func (s *FileStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	st, err := os.Stat(s.LocalPath(key))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && st.IsDir()) {
		return ObjectInfo{}, fmt.Errorf("stat %s: %w", key, ErrNotExist)
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return fileInfo(key, st), nil
}

// List returns objects under prefix in key order, skipping in-flight temporary files.
func (s *FileStore) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = s.LocalPath(prefix[:i])
	}
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || d.Type()&fs.ModeSymlink != 0 || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, fileInfo(key, info))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete removes the object at key.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	p := s.LocalPath(key)
	err := os.Remove(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	s.removeEmptyParents(p)
	return nil
}

// removeEmptyParents removes the folders above p that are left empty, up to the root (a
// non-empty one stops it).
func (s *FileStore) removeEmptyParents(p string) {
	for dir := filepath.Dir(p); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
}

// PutIf writes the object only if its generation is ifGeneration (0: only if absent). The
// check and the write hold an exclusive lock on the lake's lock file, so conditional writes
// exclude each other across processes on this host.
func (s *FileStore) PutIf(ctx context.Context, key string, r io.Reader, ifGeneration int64) (ObjectInfo, error) {
	unlock, err := s.lock()
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer unlock()
	if err := s.checkGeneration(ctx, key, ifGeneration); err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	info, err := s.Put(ctx, key, r)
	if err == nil && info.Generation == ifGeneration {
		// The clock did not move between two writes: make the new generation differ.
		later := time.Unix(0, ifGeneration+1)
		if err := os.Chtimes(s.LocalPath(key), later, later); err == nil {
			info.Generation, info.Updated = later.UnixNano(), later
		}
	}
	return info, err
}

// DeleteIf deletes the object only if its generation is ifGeneration.
func (s *FileStore) DeleteIf(ctx context.Context, key string, ifGeneration int64) error {
	unlock, err := s.lock()
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	defer unlock()
	if ifGeneration == 0 {
		return fmt.Errorf("delete %s: a conditional delete needs the generation to match", key)
	}
	if err := s.checkGeneration(ctx, key, ifGeneration); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return s.Delete(ctx, key)
}

func (s *FileStore) checkGeneration(ctx context.Context, key string, want int64) error {
	info, err := s.Stat(ctx, key)
	switch {
	case errors.Is(err, ErrNotExist) && want == 0:
		return nil
	case errors.Is(err, ErrNotExist):
		return fmt.Errorf("%w: it no longer exists", ErrNotExist)
	case err != nil:
		return err
	case info.Generation != want:
		return fmt.Errorf("%w: generation %d, expected %d", ErrPrecondition, info.Generation, want)
	}
	return nil
}

// lock takes the lake-wide lock for a conditional operation.
func (s *FileStore) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.root, ".segpipe.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// SwitchLink points name at the folder target with a relative symlink, swapped in by rename(2)
// so a reader resolves either the old folder or the new one, never neither.
func (s *FileStore) SwitchLink(ctx context.Context, name, target string) error {
	if err := CheckKey(name); err != nil {
		return err
	}
	if err := CheckKey(target); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	link := s.LocalPath(name)
	if st, err := os.Lstat(link); err == nil && st.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s exists and is not a link segpipe made; move it away", link)
	}
	rel, err := filepath.Rel(filepath.Dir(link), s.LocalPath(target))
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", link, time.Now().UnixNano())
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("switch %s: %w", name, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("switch %s: %w", name, err)
	}
	if d, err := os.Open(filepath.Dir(link)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LinkTarget returns the folder key name points to, "" when name is not a link.
func (s *FileStore) LinkTarget(name string) (string, error) {
	dest, err := os.Readlink(s.LocalPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	abs := filepath.Join(filepath.Dir(s.LocalPath(name)), dest)
	rel, err := filepath.Rel(s.root, abs)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
