package datosbot

// Overview is what one person follows, at a glance: the state of their
// institutions in the current bimester and the campaigns still open. The
// Slack Home tab shows it; the dashboard computes it.
type Overview struct {
	User     UserID
	Central  bool // unidad or coordinacion: Compliant and Total cover every institution
	Bimester Bimester
	DaysLeft int // days left in Bimester, today included
	// Institutions are those the person is a liaison of, sorted by key.
	Institutions []InstitutionOverview
	// Compliant of Total active institutions comply with Bimester
	// (central people only).
	Compliant, Total int
	// Campaigns are the open campaigns of the person's institutions (for
	// central people: every open campaign), newest first.
	Campaigns    []CampaignOverview
	DashboardURL string // where the dashboard lives; signing in needs /datos tablero
}

// InstitutionOverview is one institution of an Overview.
type InstitutionOverview struct {
	Key, Name string
	Roles     []Role
	Compliant bool // has an action dated in the current bimester
	Actions   int  // non-withdrawn actions dated in the current bimester
}

// CampaignOverview is one open campaign of an Overview. For a liaison
// Institution and Status are their institution's; for central people
// Institution is empty and Done of Targets counts the cumplida targets.
type CampaignOverview struct {
	ID, Title     string
	Deadline      Date
	Institution   string
	Status        TargetStatus
	Done, Targets int
}
