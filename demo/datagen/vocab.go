package datagen

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// surnameData lists common surnames, most common first (a few compound ones at
// the end); pickers weight them by rank.
const surnameData = `王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 高 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹
彭 曾 肖 田 董 潘 袁 蔡 蒋 余 于 杜 叶 程 魏 苏 吕 丁 任 卢 姚 沈 钟 姜 崔 谭 陆 范 汪 廖 石 金 韦 贾 夏
付 方 邹 熊 白 孟 秦 邱 侯 江 尹 薛 闫 段 雷 龙 黎 史 陶 贺 毛 郝 顾 龚 邵 万 武 钱 戴 严 孔 常 汤 康 乔
关 佟 那 欧阳 司马 上官 诸葛 东方`

// Characters of given names, by sex.
const (
	maleGivenData = `伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 阳
建 国 志 文 东 海 峰 亮 成 晨 博 子 轩 睿 泽 宏 振 祥 德 毅 卫 兵 忠 庆 春 长 永 福 广 立`
	femaleGivenData = `芳 娜 敏 静 丽 艳 娟 霞 秀 玲 桂 英 红 梅 琳 燕 萍 雪 慧 婷 倩 颖 洁 琴 云 莲 晶 欣 悦 怡
佳 瑶 涵 萱 雨 彤 思 诗 梦 月 蕾 薇 妍 璐 菲 丹 露 晓 春 美 玉 凤 兰 淑`
)

// ethnicityData: 民族 with weights per mille (Heilongjiang-like mix).
const ethnicityData = `汉族:918 满族:40 朝鲜族:10 蒙古族:10 回族:8 达斡尔族:5 锡伯族:3 壮族:2 鄂伦春族:1 赫哲族:1 鄂温克族:1 土家族:1`

// householdData: 户别 with weights per cent.
const householdData = `家庭户:88 集体户:12`

// mobilePrefixData lists mobile number segments.
const mobilePrefixData = `130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 158 159 166
171 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199`

// Parts of organisation names.
const (
	tradeCharData = `华 瑞 鑫 泰 恒 盛 达 远 宏 通 博 创 嘉 源 金 丰 兴 安 康 德 信 和 润 隆 昌 正 天 宇 中 诚
新 铭 智 凯 辰 锦 晟 峰 卓 油 龙 鹏 祥 益 汇 聚 海 庆`
	industryData = `科技 信息技术 商贸 建筑工程 石油技术服务 石油机械 化工 农业发展 餐饮管理 物流 房地产开发
物业管理 医药 文化传媒 汽车销售 机械设备 环保科技 电子商务 教育咨询 劳务派遣 油田技术服务 粮油贸易 装饰工程 网络科技`
	companyFormData = `有限公司:70 有限责任公司:22 股份有限公司:5 分公司:3`
	shopData        = `烧烤店 超市 便利店 五金店 水果店 理发店 饭店 面馆 服装店 手机店 药店 洗车行 干洗店 早餐店 粮油店`
	coopData        = `种植 养殖 农机 蔬菜 水稻 大豆 杂粮 奶牛 渔业`
	nonProfitData   = `职业培训学校 养老院 幼儿园 社会工作服务中心 康复中心 艺术培训学校`
	institutionData = `疾病预防控制中心 图书馆 档案馆 公共资源交易中心 政务服务中心 不动产登记中心`
	// legal-person status: 登记状态 with weights per cent.
	statusData = `存续:72 在业:18 注销:10`
	// authority/type codes of generated legal persons, weights per cent.
	legalKindData = `91:75 92:15 93:5 52:3 12:2`
	// 婚姻状况 of adults, weights per cent.
	maritalData = `已婚:65 离婚:15 未婚:10 丧偶:10`
)

// weighted picks strings with given integer weights.
type weighted struct {
	items []string
	cum   []int // cumulative weights
}

// parseWeighted parses "item:weight ..." (a missing weight is 1).
func parseWeighted(s string) weighted {
	var w weighted
	total := 0
	for _, f := range strings.Fields(s) {
		item, ws, ok := strings.Cut(f, ":")
		n := 1
		if ok {
			n, _ = strconv.Atoi(ws)
		}
		total += n
		w.items = append(w.items, item)
		w.cum = append(w.cum, total)
	}
	return w
}

// byRank weights items so that rank k (0-based) has weight ~ 1/(k+4).
func byRank(s string) weighted {
	var w weighted
	total := 0
	for k, f := range strings.Fields(s) {
		total += 12000 / (k + 4)
		w.items = append(w.items, f)
		w.cum = append(w.cum, total)
	}
	return w
}

func (w weighted) pick(r *rand.Rand) string {
	x := r.IntN(w.cum[len(w.cum)-1])
	return w.items[sort.SearchInts(w.cum, x+1)]
}

// vocab holds the parsed word lists and places; built once per generation run
// (there is no package-level state).
type vocab struct {
	counties        []county
	countyCum       []int // cumulative county weights
	surnames        weighted
	maleGiven       []string
	femaleGiven     []string
	ethnicities     weighted
	households      weighted
	mobilePrefixes  []string
	roads           []string
	compounds       []string
	buildings       []string
	tradeChars      []string
	industries      []string
	companyForms    weighted
	shops           []string
	coops           []string
	nonProfits      []string
	institutions    []string
	statuses        weighted
	legalKinds      weighted
	maritalStatuses weighted
}

func newVocab() *vocab {
	v := &vocab{
		counties:        parseCounties(),
		surnames:        byRank(surnameData),
		maleGiven:       strings.Fields(maleGivenData),
		femaleGiven:     strings.Fields(femaleGivenData),
		ethnicities:     parseWeighted(ethnicityData),
		households:      parseWeighted(householdData),
		mobilePrefixes:  strings.Fields(mobilePrefixData),
		roads:           strings.Fields(roadData),
		compounds:       strings.Fields(compoundData),
		buildings:       strings.Fields(buildingData),
		tradeChars:      strings.Fields(tradeCharData),
		industries:      strings.Fields(industryData),
		companyForms:    parseWeighted(companyFormData),
		shops:           strings.Fields(shopData),
		coops:           strings.Fields(coopData),
		nonProfits:      strings.Fields(nonProfitData),
		institutions:    strings.Fields(institutionData),
		statuses:        parseWeighted(statusData),
		legalKinds:      parseWeighted(legalKindData),
		maritalStatuses: parseWeighted(maritalData),
	}
	total := 0
	for _, c := range v.counties {
		total += c.weight
		v.countyCum = append(v.countyCum, total)
	}
	return v
}

// pickCounty draws a county by weight.
func (v *vocab) pickCounty(r *rand.Rand) county {
	x := r.IntN(v.countyCum[len(v.countyCum)-1])
	return v.counties[sort.SearchInts(v.countyCum, x+1)]
}

// name returns a Chinese name: a surname and one or two given-name characters
// chosen for the sex.
func (v *vocab) name(r *rand.Rand, male bool) string {
	given := v.femaleGiven
	if male {
		given = v.maleGiven
	}
	name := v.surnames.pick(r) + given[r.IntN(len(given))]
	if r.IntN(100) < 65 {
		name += given[r.IntN(len(given))]
	}
	return name
}

// phone returns an 11-digit mobile number.
func (v *vocab) phone(r *rand.Rand) string {
	var b [11]byte
	copy(b[:3], v.mobilePrefixes[r.IntN(len(v.mobilePrefixes))])
	for i := 3; i < len(b); i++ {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b[:])
}
