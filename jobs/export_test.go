package jobs

// WithStageHook returns p with fn called at named points of a run ("snapshots": a segment
// has read every manifest it will read and not yet any data file).
func WithStageHook(p Params, fn func(stage string)) Params {
	p.stageHook = fn
	return p
}
