package lake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Cache keeps local copies of a remote lake's objects for DuckDB, one file per object
// generation: an object is downloaded once and read from disk until it is replaced. Files
// are written under a temporary name and renamed into place after their size (and CRC32C,
// where the store keeps one) checked out, so a file in the cache is always whole. The folder
// can be deleted at any time; a hit refreshes a file's modification time, so files unused
// for a while can be removed with find -mtime.
type Cache struct {
	dir     string
	stripes [64]sync.Mutex // one download of a given file at a time in this process

	downloads, hits, bytes atomic.Int64
}

// CacheStats counts what a cache did since it was made.
type CacheStats struct {
	// Downloads is how many objects were fetched from the lake; Hits how many were served
	// from disk without touching their content.
	Downloads, Hits int64
	// BytesDownloaded is the size of the fetched objects.
	BytesDownloaded int64
}

// GenerationReader is a store that can read one generation of an object and knows each
// object's CRC32C; the cache uses it so the file it keeps for a generation holds exactly that
// generation, verified. GCSStore is one.
type GenerationReader interface {
	// StatChecksum is Stat plus the object's CRC32C (Castagnoli).
	StatChecksum(ctx context.Context, key string) (ObjectInfo, uint32, error)
	// GetGeneration opens the given generation of the object at key; the error wraps
	// ErrNotExist once that generation is gone.
	GetGeneration(ctx context.Context, key string, generation int64) (io.ReadCloser, error)
}

// NewCache returns a cache in dir; "" means the segpipe folder of the user cache directory
// (os.UserCacheDir), or of the temporary directory when there is none. The folder is made
// on the first download.
func NewCache(dir string) *Cache {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "segpipe")
	}
	return &Cache{dir: dir}
}

// Dir is the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Stats reports the downloads and hits so far.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Downloads: c.downloads.Load(), Hits: c.hits.Load(), BytesDownloaded: c.bytes.Load()}
}

// errGenerationGone marks a download whose object was replaced while it was being read.
var errGenerationGone = errors.New("object replaced while it was downloaded")

// LocalPath returns a local file holding the current generation of the object at key in s,
// downloading it unless the cache already has that generation.
func (c *Cache) LocalPath(ctx context.Context, s Store, key string) (string, error) {
	gr, _ := s.(GenerationReader)
	for attempt := 0; ; attempt++ {
		var (
			info    ObjectInfo
			crc     uint32
			haveCRC bool
			err     error
		)
		if gr != nil {
			info, crc, err = gr.StatChecksum(ctx, key)
			haveCRC = true
		} else {
			info, err = s.Stat(ctx, key)
		}
		if err != nil {
			return "", fmt.Errorf("cache %s/%s: %w", s.URL(), key, err)
		}
		file := c.fileFor(s.URL(), key, info.Generation)
		err = c.fetch(ctx, s, gr, info, crc, haveCRC, file)
		if errors.Is(err, errGenerationGone) && attempt < 3 {
			continue // replaced meanwhile: cache the new generation instead
		}
		if err != nil {
			return "", fmt.Errorf("cache %s/%s: %w", s.URL(), key, err)
		}
		return file, nil
	}
}

// fileFor is where a generation of an object is cached: named by a hash of the store, key
// and generation, ending in the key's base name so people (and DuckDB) can tell what it is.
func (c *Cache) fileFor(storeURL, key string, generation int64) string {
	h := sha256.Sum256([]byte(storeURL + "\x00" + key + "\x00" + strconv.FormatInt(generation, 10)))
	name := hex.EncodeToString(h[:])
	return filepath.Join(c.dir, "objects", name[:2], name[2:34]+"-"+path.Base(key))
}

// fetch makes sure file holds the described generation, downloading it when it does not.
func (c *Cache) fetch(ctx context.Context, s Store, gr GenerationReader, info ObjectInfo, crc uint32, haveCRC bool, file string) error {
	mu := &c.stripes[stripe(file)]
	mu.Lock()
	defer mu.Unlock()
	if st, err := os.Stat(file); err == nil && st.Size() == info.Size {
		now := time.Now()
		_ = os.Chtimes(file, now, now)
		c.hits.Add(1)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	var r io.ReadCloser
	var err error
	if gr != nil {
		r, err = gr.GetGeneration(ctx, info.Key, info.Generation)
	} else {
		r, err = s.Get(ctx, info.Key)
	}
	if errors.Is(err, ErrNotExist) {
		return errGenerationGone
	}
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	sum := crc32.New(castagnoli)
	n, err := io.Copy(io.MultiWriter(tmp, sum), ctxReader{ctx, r})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if n != info.Size {
		return fmt.Errorf("downloaded %d bytes, the lake lists %d: retry", n, info.Size)
	}
	if haveCRC && sum.Sum32() != crc {
		return fmt.Errorf("downloaded data has CRC32C %08x, the lake lists %08x: retry", sum.Sum32(), crc)
	}
	if gr == nil {
		// Without a generation to read, check the object did not change under the download.
		now, err := s.Stat(ctx, info.Key)
		if err != nil || now.Generation != info.Generation {
			return errGenerationGone
		}
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	c.downloads.Add(1)
	c.bytes.Add(n)
	return nil
}

func stripe(file string) int {
	h := crc32.ChecksumIEEE([]byte(file))
	return int(h % 64)
}
