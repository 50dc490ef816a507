package catalog

// SourceRef names one field of one resource.
type SourceRef struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
}

// SubjectField is one field of a golden record (一数一源): exactly one
// authoritative source, and the other sources that carry the same datum and
// only cross-check it (多源校核).
type SubjectField struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Authority   SourceRef   `json:"authority"`
	CrossCheck  []SourceRef `json:"cross_check,omitempty"`
}

// SubjectSpec declares the golden record of one subject type (person or
// legal_person), from subjects.yaml in the catalog directory.
type SubjectSpec struct {
	Type string `json:"type"` // SubjectPerson or SubjectLegalPerson
	// Library is the base library (基础库) the golden records form, e.g.
	// "population" (人口基础库) or "legal_person" (法人基础库); it names the
	// change topic.
	Library string         `json:"library"`
	Name    string         `json:"name,omitempty"` // e.g. 人口基础库
	Fields  []SubjectField `json:"fields"`
}

// SubjectSpec returns the golden-record declaration of a subject type.
func (c *Catalog) SubjectSpec(typ string) (*SubjectSpec, bool) {
	for i := range c.Subjects {
		if c.Subjects[i].Type == typ {
			return &c.Subjects[i], true
		}
	}
	return nil, false
}
