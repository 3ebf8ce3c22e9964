package datosbot

// InstitutionStatus is what estado shows of one institution in one
// bimester, read from the store in one go.
type InstitutionStatus struct {
	Institution Institution // with its channels
	Actions     []Action    // dated in the bimester, withdrawn or not, oldest registration first
	// Campaigns are the open campaigns that target the institution, newest
	// first, each with the institution's own target.
	Campaigns []CampaignProgress
}

// CampaignProgress is one campaign and where one institution stands in it.
type CampaignProgress struct {
	Campaign Campaign
	Target   CampaignTarget
}
