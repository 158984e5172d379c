package trace

// KeepCompositions makes e keep the compositions it converted for one Result and reuse them
// for the next, instead of converting every tainted holding again each time. An engine that
// is asked for a Result after every few blocks (screen.Follower's) wants this; the Results
// are the same either way, at the cost of the memory the kept compositions take.
func (e *Engine) KeepCompositions() { e.keepComps = true }
