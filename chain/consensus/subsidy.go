package consensus

// CalcBlockSubsidy returns the new coins a block at height may create:
// p.BaseSubsidy halved once every p.SubsidyHalvingInterval blocks, and zero
// after 64 halvings.
func CalcBlockSubsidy(height int32, p *Params) int64 {
	if p.SubsidyHalvingInterval <= 0 {
		return p.BaseSubsidy
	}
	halvings := height / p.SubsidyHalvingInterval
	if halvings >= 64 {
		return 0
	}
	return p.BaseSubsidy >> uint(halvings)
}
