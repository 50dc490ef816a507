package catalog_test

import (
	"fmt"
	"log"

	"github.com/tongban/tongban/catalog"
)

// The documented example catalog in deploy/catalog loads and answers lookups.
func ExampleLoad() {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range c.Departments {
		fmt.Printf("%s %s: %d resource(s)\n", d.Code, d.ShortName, len(c.ResourcesOf(d.Code)))
	}
	r, _ := c.Resource("CA-MAR-001")
	fmt.Println(r.Name, r.File, r.PrimaryKey, r.SubjectKeyField(), len(r.Schema.Fields))
	// Output:
	// 1123060001281401X7 市公安局: 1 resource(s)
	// 112306000128140287 市市场监管局: 1 resource(s)
	// 112306000128140362 市民政局: 1 resource(s)
	// 11230600012814044W 市数据局: 0 resource(s)
	// 婚姻登记信息 resources/marriage.yaml [record_id] citizen_id 7
}

// The golden records of the example: one authoritative source per field
// (一数一源), some fields cross-checked against other resources.
func ExampleCatalog_SubjectSpec() {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		log.Fatal(err)
	}
	s, _ := c.SubjectSpec(catalog.SubjectPerson)
	fmt.Println(s.Library, s.Name)
	for _, f := range s.Fields[:2] {
		fmt.Println(f.Name, "←", f.Authority.Resource+"."+f.Authority.Field, "cross-checked by", f.CrossCheck)
	}
	r, _ := c.Resource("CA-MAR-001")
	fmt.Println("latest by", r.Subject.LatestBy, "with", len(r.Rules), "rules, first", r.Rules[0].Kind, r.Rules[0].Field)
	// Output:
	// population 人口基础库
	// name ← PS-POP-001.name cross-checked by [{CA-MAR-001 name}]
	// sex ← PS-POP-001.sex cross-checked by []
	// latest by registered_on with 12 rules, first range record_id
}
