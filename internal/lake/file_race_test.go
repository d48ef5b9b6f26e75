package lake

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// A Put into folders that a concurrent Delete of their last object prunes still lands: the
// folder removed between making it and creating the temporary file is made again. (Seen as
// "mkdir .../sweeps/billing: no such file or directory" when a landing marked its sweep while
// another entity's sweep mark was removed.)
func TestPutRacesDeleteOfTheFoldersLastObject(t *testing.T) {
	s, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				key := fmt.Sprintf("sweeps/src%d/ent/w%d-dt=%d.json", w%2, w, i%7) // folders shared, objects not
				if _, err := s.Put(ctx, key, strings.NewReader("{}")); err != nil {
					errs <- err
					return
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
