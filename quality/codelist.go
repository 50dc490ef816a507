package quality

// CodeList returns a built-in code list by name: the codes and their Chinese
// names. Known lists:
//
//   - "GB/T 2261.1": sex (人的性别代码): 0 未知的性别, 1 男性, 2 女性, 9 未说明的性别
//   - "GB/T 2261.2": marital status (婚姻状况代码)
//
// Each call returns a new map.
func CodeList(name string) (map[string]string, bool) {
	switch name {
	case "GB/T 2261.1":
		return map[string]string{"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}, true
	case "GB/T 2261.2":
		return map[string]string{
			"10": "未婚", "20": "已婚", "21": "初婚", "22": "再婚", "23": "复婚",
			"30": "丧偶", "40": "离婚", "90": "未说明的婚姻状况",
		}, true
	}
	return nil, false
}

// CodeListNames lists the names CodeList knows.
func CodeListNames() []string { return []string{"GB/T 2261.1", "GB/T 2261.2"} }
