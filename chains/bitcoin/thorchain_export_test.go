package bitcoin

// ThorchainActions lists the action spellings the detector takes for THORChain's.
func ThorchainActions() []string {
	var out []string
	for a := range thorchainActions {
		out = append(out, a)
	}
	return out
}
