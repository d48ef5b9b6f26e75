package lake

// SetGCSChunkSize sets the upload chunk of large objects, so tests can send many chunks
// without many megabytes.
func SetGCSChunkSize(s *GCSStore, n int) { s.chunkSize = n }
