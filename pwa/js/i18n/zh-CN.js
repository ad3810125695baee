// UI text (Simplified Chinese) and labels of server codes.
export const T = {
  app: '护蕾', maskedSearch: '搜索显示的姓名（已脱敏）',
  online: '在线', offline: '离线', unsynced: '待同步', lastSync: '上次同步', never: '从未',
  syncing: '正在同步…', syncNow: '立即同步', attention: '需要处理', conflicts: '冲突',
  login: '登录', unlock: '解锁', username: '用户名', password: '密码', logout: '退出登录',
  today: '今日待办', children: '我的儿童', venues: '我的场所', register: '登记', sync: '同步',
  // Shown instead in a bottom bar of seven tabs, where four characters wrap at 360 px.
  navShort: { today: '待办', children: '儿童', venues: '场所' },
  clue: '强制报告', save: '保存', cancel: '取消', yes: '是', no: '否',
  savedPending: '已保存在本机，待同步', relogin: '登录已过期，请输入密码重新连接服务器',
  passwordChanged: '服务器不再接受本机的密码：可能已在其他设备修改，或账号已被停用。请输入现在的密码重新连接服务器；账号停用请联系镇平安办',
  updateReady: '有新版本', updateNow: '更新',
  head: '村务', ledgers: '台账', review: '待审核走访', locations: '待确认位置', devices: '设备管理', plans: '帮扶计划', clues: '线索',
  duplicates: '疑似重复登记',
  needsNetwork: '此页面需要联网。当前离线，请到有信号的地方再打开。',
  // services/passwords.password_problems, in words
  passwordRule: '至少 8 位，不能太常见、不能含用户名',
  mustChangePassword: '您的密码由镇平安办重置，请改为只有您自己知道的密码。',
};

// As the ledgers and their exports name them (server/services/ledgers/base.py).
export const CATEGORY = {
  left_behind: '留守', migrant: '流动', disadvantaged: '困境', disabled: '残疾',
  single_parent: '单亲', reconstituted: '重组', troubled_family: '关系异常',
};
export const RISK = { low: '低风险', medium: '中风险', high: '高风险' };
export const SEX = { F: '女', M: '男' };
export const VENUE_TYPE = {
  hotel: '旅馆酒店', esports_hotel: '电竞酒店', cinema: '点播影院', internet_cafe: '网吧',
  bar: '酒吧', ktv: 'KTV', other: '其他',
};
export const RESULT = { pass: '合格', fail: '不合格', na: '不适用' };
// A staff record check's result (staff_check.result).
export const STAFF_RESULT = { clear: '无记录', record_found: '有违法犯罪记录' };
export const ENTITY = {
  household: '家庭', child: '儿童', visit: '走访', venue: '场所', inspection: '检查',
  joint_operation: '联合行动', plan: '帮扶计划', plan_progress: '计划进展', clue: '强制报告线索',
  staff_check: '从业人员查询',
};
export const FIELD = {
  name: '姓名', notes: '备注', school: '学校', status: '状态', birth_date: '出生日期', sex: '性别',
  categories: '类别', address: '地址', guardians: '监护人', id_number: '身份证号', household_id: '家庭',
  grid_id: '所属网格', village_id: '村/社区', registered_at: '登记时间', child_id: '儿童', venue_id: '场所',
  plan_id: '帮扶计划', visited_at: '走访时间', inspected_at: '检查时间', happened_at: '发生时间', at: '时间',
  answers: '清单填写', template_version: '清单版本', lat: '定位', lon: '定位', accuracy_m: '定位精度',
  follow_up: '需要跟进', amends: '更正', amend_reason: '更正原因', reinspection_of: '复查',
  operation_id: '联合执法行动', description: '情况', place: '地点', source_visit_id: '来源走访', note: '内容',
  person_name: '姓名', employer_kind: '所在单位类别', employer_id: '所在单位或场所', checked_on: '查询日期',
  result: '查询结果', next_due: '下次查询日期',
};
const GUARDIAN_FIELD = { name: '监护人姓名', relation: '与儿童关系', phone: '监护人电话' };

/** A field the server names in an error (id_number, guardians.1.phone) in the form's words; null for one
 *  without a name here, whose message then speaks for itself. `guardians`: how many the record lists. */
export function fieldName(path, guardians = 1) {
  const g = /^guardians\.(\d+)\.(name|relation|phone)$/.exec(path);
  if (g) return `${GUARDIAN_FIELD[g[2]]}${guardians > 1 ? `（${Number(g[1]) + 1}）` : ''}`;
  return FIELD[path] || FIELD[path.split('.')[0]] || null;
}
export const MEASURE = {
  legal_aid: '法律援助', judicial_aid: '司法救助', living_aid: '生活救助', medical: '医疗',
  psychological: '心理辅导', school_transfer: '转学', temporary_guardianship: '临时监护', other: '其他',
};
export const CLUE_STATUS = { new: '待受理', received: '已受理', closed: '已办结' };
export const CLUE_OUTCOME = { case_filed: '立案侦查', no_case: '不予立案', referred: '移交其他部门', other: '其他' };
export const PLAN_STATUS = { draft: '待审批', active: '执行中', closed: '已结案' };
export const FLAG = {
  location_mismatch: '定位与住址不符', no_location: '没有定位', clock_skew: '手机时间与服务器不一致',
  future_time: '走访时间晚于上传时间', late_entry: '走访后很久才上传', impossible_travel: '短时间内相距过远',
};
export const LEDGER = {
  children: '重点未成年人', plans: '一对一帮扶', venues: '重点场所', inspections: '场所检查及整改',
  staff_checks: '从业人员查询',
};
