// Package catalog is the resource catalog (政务信息资源目录): the departments
// (政务部门) that provide data, and the resources (信息资源) they provide with
// their fields (信息项), primary key, subject, share type (共享类型), open type
// (开放类型), update cycle (更新周期) and format.
//
// A catalog is a directory:
//
//	<dir>/departments.yaml      departments: [{code, name, short_name}, …]
//	<dir>/resources/*.yaml      one resource per file, its fields with their quality rules
//	<dir>/codelists/*.yaml      optional: code lists the rules name with list:
//	<dir>/subjects.yaml         optional: the golden records (一数一源), one authoritative source per field
//
// Load reads and validates the whole directory and reports every problem at
// once, each as "file:line: key: problem" with the file relative to the
// directory. The rules come out compiled (Resource.Rules), ready for
// quality.Check. deploy/catalog in the repository is the documented example.
package catalog
