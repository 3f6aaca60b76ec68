PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE grants (
	id VARCHAR(64) NOT NULL, 
	consumer VARCHAR(18) NOT NULL, 
	resource VARCHAR(128) NOT NULL, 
	items JSON NOT NULL, 
	modes JSON NOT NULL, 
	purpose TEXT NOT NULL, 
	valid_from DATETIME NOT NULL, 
	valid_until DATETIME NOT NULL, 
	revoked_at DATETIME, 
	created_at DATETIME NOT NULL, 
	conditions JSON, 
	application VARCHAR(64), 
	PRIMARY KEY (id)
);
INSERT INTO grants VALUES('grant-82f8b8e0acce','11420100MB00020145','amr.enterprise_registration','["business_scope","name","registered_capital","registration_date","status","uscc"]','["bulk","compare","query"]','行政审批核验','2026-11-30 17:07:38.485163','2027-11-30 17:07:38.485163',NULL,'2026-11-30 17:07:38.498883','{"regions":[],"masks":{},"daily_cap":null}','app-7226991e6562');
INSERT INTO grants VALUES('grant-d43d05b68045','11420100MB00020145','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','2026-11-30 17:07:38.526340','2027-11-30 17:07:38.526340',NULL,'2026-11-30 17:07:38.532863','{"regions":[],"masks":{},"daily_cap":null}','app-afbbd891bde2');
INSERT INTO grants VALUES('grant-b71d1ff94288','11420100MB00020145','tax.tax_credit','["credit_rating","taxpayer_type","uscc"]','["compare","query"]','行政审批核验','2026-11-30 17:07:38.542588','2027-11-30 17:07:38.542588',NULL,'2026-11-30 17:07:38.554837','{"regions":[],"masks":{},"daily_cap":null}','app-d47e24c8c236');
INSERT INTO grants VALUES('grant-8bfdc2290222','11420100MB00020145','hrss.social_insurance','["contribution_status","insured_employees","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:38.560187','2027-11-30 17:07:38.560187',NULL,'2026-11-30 17:07:38.579052','{"regions":[],"masks":{},"daily_cap":null}','app-8131b4fcdb6e');
INSERT INTO grants VALUES('grant-e91953447b02','11420100MB00020145','credit.credit_record','["blacklisted","penalty_count","uscc"]','["bulk","query"]','行政审批核验','2026-11-30 17:07:38.586071','2027-11-30 17:07:38.586071',NULL,'2026-11-30 17:07:38.591921','{"regions":[],"masks":{},"daily_cap":null}','app-082d9b03581e');
INSERT INTO grants VALUES('grant-0b8d6dc80371','11420100MB00020145','psb.resident','["birth_date","gender","id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:38.603666','2027-11-30 17:07:38.603666',NULL,'2026-11-30 17:07:38.619347','{"regions":[],"masks":{},"daily_cap":null}','app-042259c1aa09');
INSERT INTO grants VALUES('grant-a98207a24921','11420100MB00020145','psb.resident','["name"]','["compare"]','行政审批核验','2026-11-30 17:07:38.634058','2027-11-30 17:07:38.634058',NULL,'2026-11-30 17:07:38.655405','{"regions":[],"masks":{},"daily_cap":null}','app-423c4444d03d');
INSERT INTO grants VALUES('grant-82be96239311','11420100MB00020145','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:38.678177','2027-11-30 17:07:38.678177',NULL,'2026-11-30 17:07:38.693374','{"regions":[],"masks":{},"daily_cap":null}','app-75f537286f42');
INSERT INTO grants VALUES('grant-0047fab01227','11420100MB00020145','hpf.deposit','["covered_employees","deposit_status","last_paid_month","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:38.715576','2027-11-30 17:07:38.715576',NULL,'2026-11-30 17:07:38.742756','{"regions":[],"masks":{},"daily_cap":null}','app-77a622c10d2d');
INSERT INTO grants VALUES('grant-a2beae381513','11420100MB00020145','ema.safety_inspection','["inspection_result","last_inspection","open_hazards","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:38.759322','2027-11-30 17:07:38.759322',NULL,'2026-11-30 17:07:38.779482','{"regions":[],"masks":{},"daily_cap":null}','app-ed1ad4ac108f');
INSERT INTO grants VALUES('grant-5a785b50471a','11420100MB00020220','amr.enterprise_registration','["business_scope","name","registered_capital","registration_date","status","uscc"]','["bulk","compare","query"]','行政审批核验','2026-11-30 17:07:38.789798','2027-11-30 17:07:38.789798',NULL,'2026-11-30 17:07:38.795763','{"regions":[],"masks":{},"daily_cap":null}','app-e9047fe893e8');
INSERT INTO grants VALUES('grant-53315f615050','11420100MB00020220','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','2026-11-30 17:07:38.813946','2027-11-30 17:07:38.813946',NULL,'2026-11-30 17:07:38.823025','{"regions":[],"masks":{},"daily_cap":null}','app-968271d73cd8');
INSERT INTO grants VALUES('grant-7bacdecfb309','11420100MB00020220','tax.tax_credit','["credit_rating","taxpayer_type","uscc"]','["compare","query"]','行政审批核验','2026-11-30 17:07:38.842008','2027-11-30 17:07:38.842008',NULL,'2026-11-30 17:07:38.855378','{"regions":[],"masks":{},"daily_cap":null}','app-5ad612be52c5');
INSERT INTO grants VALUES('grant-8f5d07c21e05','11420100MB00020220','hrss.social_insurance','["contribution_status","insured_employees","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:38.870209','2027-11-30 17:07:38.870209',NULL,'2026-11-30 17:07:38.876826','{"regions":[],"masks":{},"daily_cap":null}','app-a57a66331fb4');
INSERT INTO grants VALUES('grant-cd3cca774d92','11420100MB00020220','credit.credit_record','["blacklisted","penalty_count","uscc"]','["bulk","query"]','行政审批核验','2026-11-30 17:07:38.886202','2027-11-30 17:07:38.886202',NULL,'2026-11-30 17:07:38.898239','{"regions":[],"masks":{},"daily_cap":null}','app-e3610351351f');
INSERT INTO grants VALUES('grant-670abfd12cc6','11420100MB00020220','psb.resident','["birth_date","gender","id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:38.909980','2027-11-30 17:07:38.909980',NULL,'2026-11-30 17:07:38.923209','{"regions":[],"masks":{},"daily_cap":null}','app-598dbf03e87d');
INSERT INTO grants VALUES('grant-664904af96ad','11420100MB00020220','psb.resident','["name"]','["compare"]','行政审批核验','2026-11-30 17:07:38.930186','2027-11-30 17:07:38.930186',NULL,'2026-11-30 17:07:38.946347','{"regions":[],"masks":{},"daily_cap":null}','app-27865814e1a5');
INSERT INTO grants VALUES('grant-86b1f2525721','11420100MB00020220','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:38.954939','2027-11-30 17:07:38.954939',NULL,'2026-11-30 17:07:38.963144','{"regions":[],"masks":{},"daily_cap":null}','app-4f8cdc426098');
INSERT INTO grants VALUES('grant-3910f086cc6c','11420100MB00020220','hpf.deposit','["covered_employees","deposit_status","last_paid_month","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:38.971224','2027-11-30 17:07:38.971224',NULL,'2026-11-30 17:07:38.979320','{"regions":[],"masks":{},"daily_cap":null}','app-2a846ff62aee');
INSERT INTO grants VALUES('grant-7ca91c5dd1c3','11420100MB00020220','ema.safety_inspection','["inspection_result","last_inspection","open_hazards","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:38.988361','2027-11-30 17:07:38.988361',NULL,'2026-11-30 17:07:38.997824','{"regions":[],"masks":{},"daily_cap":null}','app-6f1a658b955a');
INSERT INTO grants VALUES('grant-0f5a70fa097d','11420100MB0002030T','amr.enterprise_registration','["business_scope","name","registered_capital","registration_date","status","uscc"]','["bulk","compare","query"]','行政审批核验','2026-11-30 17:07:39.001565','2027-11-30 17:07:39.001565',NULL,'2026-11-30 17:07:39.019283','{"regions":[],"masks":{},"daily_cap":null}','app-fdb8c87cebef');
INSERT INTO grants VALUES('grant-30c4d2216da3','11420100MB0002030T','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','2026-11-30 17:07:39.026479','2027-11-30 17:07:39.026479',NULL,'2026-11-30 17:07:39.031388','{"regions":[],"masks":{},"daily_cap":null}','app-fbe9baf35415');
INSERT INTO grants VALUES('grant-97c0bcea902e','11420100MB0002030T','tax.tax_credit','["credit_rating","taxpayer_type","uscc"]','["compare","query"]','行政审批核验','2026-11-30 17:07:39.039882','2027-11-30 17:07:39.039882',NULL,'2026-11-30 17:07:39.047840','{"regions":[],"masks":{},"daily_cap":null}','app-d25d6a081c9e');
INSERT INTO grants VALUES('grant-a71ad9ccdb98','11420100MB0002030T','hrss.social_insurance','["contribution_status","insured_employees","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:39.055171','2027-11-30 17:07:39.055171',NULL,'2026-11-30 17:07:39.063975','{"regions":[],"masks":{},"daily_cap":null}','app-779f369f7cf8');
INSERT INTO grants VALUES('grant-87f1fdd21abb','11420100MB0002030T','credit.credit_record','["blacklisted","penalty_count","uscc"]','["bulk","query"]','行政审批核验','2026-11-30 17:07:39.067007','2027-11-30 17:07:39.067007',NULL,'2026-11-30 17:07:39.082992','{"regions":[],"masks":{},"daily_cap":null}','app-d515f1abc446');
INSERT INTO grants VALUES('grant-1db0c4dfde11','11420100MB0002030T','psb.resident','["birth_date","gender","id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:39.096172','2027-11-30 17:07:39.096172',NULL,'2026-11-30 17:07:39.116764','{"regions":[],"masks":{},"daily_cap":null}','app-16d9cd8579f6');
INSERT INTO grants VALUES('grant-c4b3302277e4','11420100MB0002030T','psb.resident','["name"]','["compare"]','行政审批核验','2026-11-30 17:07:39.142761','2027-11-30 17:07:39.142761',NULL,'2026-11-30 17:07:39.158374','{"regions":[],"masks":{},"daily_cap":null}','app-54d98ab6a3d3');
INSERT INTO grants VALUES('grant-29d3213232d1','11420100MB0002030T','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:39.169882','2027-11-30 17:07:39.169882',NULL,'2026-11-30 17:07:39.178555','{"regions":[],"masks":{},"daily_cap":null}','app-d2ac201a6743');
INSERT INTO grants VALUES('grant-390792367e79','11420100MB0002030T','hpf.deposit','["covered_employees","deposit_status","last_paid_month","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:39.187307','2027-11-30 17:07:39.187307',NULL,'2026-11-30 17:07:39.198046','{"regions":[],"masks":{},"daily_cap":null}','app-4e8f8acf015e');
INSERT INTO grants VALUES('grant-ff6d00d73d8b','11420100MB0002030T','ema.safety_inspection','["inspection_result","last_inspection","open_hazards","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:39.209755','2027-11-30 17:07:39.209755',NULL,'2026-11-30 17:07:39.230400','{"regions":[],"masks":{},"daily_cap":null}','app-172b71513daf');
INSERT INTO grants VALUES('grant-98c0afaf9645','11420100MB0001011L','amr.enterprise_registration','["business_scope","name","registered_capital","registration_date","status","uscc"]','["bulk","compare","query"]','行政审批核验','2026-11-30 17:07:39.246648','2027-11-30 17:07:39.246648',NULL,'2026-11-30 17:07:39.258560','{"regions":[],"masks":{},"daily_cap":null}','app-cd19128910ea');
INSERT INTO grants VALUES('grant-4323105d66f9','11420100MB0001011L','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','2026-11-30 17:07:39.263199','2027-11-30 17:07:39.263199',NULL,'2026-11-30 17:07:39.271110','{"regions":[],"masks":{},"daily_cap":null}','app-cfa49c4b241b');
INSERT INTO grants VALUES('grant-7732d79affd9','11420100MB0001011L','tax.tax_credit','["credit_rating","taxpayer_type","uscc"]','["compare","query"]','行政审批核验','2026-11-30 17:07:39.281461','2027-11-30 17:07:39.281461',NULL,'2026-11-30 17:07:39.289895','{"regions":[],"masks":{},"daily_cap":null}','app-8671b9f94557');
INSERT INTO grants VALUES('grant-13f2a4d90da1','11420100MB0001011L','hrss.social_insurance','["contribution_status","insured_employees","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:39.297350','2027-11-30 17:07:39.297350',NULL,'2026-11-30 17:07:39.307094','{"regions":[],"masks":{},"daily_cap":null}','app-2cb2375303da');
INSERT INTO grants VALUES('grant-d1e9f19c5aff','11420100MB0001011L','credit.credit_record','["blacklisted","penalty_count","uscc"]','["bulk","query"]','行政审批核验','2026-11-30 17:07:39.330096','2027-11-30 17:07:39.330096',NULL,'2026-11-30 17:07:39.343704','{"regions":[],"masks":{},"daily_cap":null}','app-302173e528bd');
INSERT INTO grants VALUES('grant-3b6eab1ea8be','11420100MB0001011L','psb.resident','["birth_date","gender","id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:39.349264','2027-11-30 17:07:39.349264',NULL,'2026-11-30 17:07:39.365991','{"regions":[],"masks":{},"daily_cap":null}','app-51e9857a4dce');
INSERT INTO grants VALUES('grant-7445179f12ec','11420100MB0001011L','psb.resident','["name"]','["compare"]','行政审批核验','2026-11-30 17:07:39.375419','2027-11-30 17:07:39.375419',NULL,'2026-11-30 17:07:39.378654','{"regions":[],"masks":{},"daily_cap":null}','app-3eeef24b1c0c');
INSERT INTO grants VALUES('grant-de50ce8473d3','11420100MB0001011L','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','2026-11-30 17:07:39.381472','2027-11-30 17:07:39.381472',NULL,'2026-11-30 17:07:39.399505','{"regions":[],"masks":{},"daily_cap":null}','app-8fc797513166');
INSERT INTO grants VALUES('grant-f070247fdb2a','11420100MB0001011L','hpf.deposit','["covered_employees","deposit_status","last_paid_month","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:39.423302','2027-11-30 17:07:39.423302',NULL,'2026-11-30 17:07:39.440356','{"regions":[],"masks":{},"daily_cap":null}','app-d9954d4a53bd');
INSERT INTO grants VALUES('grant-c2c4c0c449d3','11420100MB0001011L','ema.safety_inspection','["inspection_result","last_inspection","open_hazards","uscc"]','["query"]','行政审批核验','2026-11-30 17:07:39.444148','2027-11-30 17:07:39.444148',NULL,'2026-11-30 17:07:39.459240','{"regions":[],"masks":{},"daily_cap":null}','app-79f6e1db251c');
INSERT INTO grants VALUES('grant-238c6c1196c1','11420100MB00020145','amr.enterprise_registration','["address","legal_representative"]','["compare","query"]','行政审批核验','2026-11-30 17:07:39.572599','2027-11-30 17:07:39.572539',NULL,'2026-11-30 17:07:39.572599','{"regions":[],"masks":{},"daily_cap":null}',NULL);
INSERT INTO grants VALUES('grant-a90d21391776','11420100MB00020220','amr.enterprise_registration','["address"]','["query"]','住房保障资格审核','2026-11-30 17:07:41.671410','2026-12-30 17:07:41.629446',NULL,'2026-11-30 17:07:41.687048','{"regions":[],"masks":{},"daily_cap":null}',NULL);
INSERT INTO grants VALUES('grant-74641059211e','11420100MB00020220','amr.enterprise_registration','["address"]','["query"]','住房保障资格审核','2026-11-30 17:07:41.781840','2026-12-30 17:07:41.629446','2026-11-30 17:07:41.888173','2026-11-30 17:07:41.797852','{"regions":[],"masks":{},"daily_cap":null}',NULL);
CREATE TABLE grant_usage (
	grant VARCHAR(64) NOT NULL, 
	day DATE NOT NULL, 
	subject VARCHAR(18) NOT NULL, 
	PRIMARY KEY (grant, day, subject)
);
CREATE TABLE audit_events (
	id VARCHAR(64) NOT NULL, 
	instance VARCHAR(64) NOT NULL, 
	seq BIGINT NOT NULL, 
	time DATETIME NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	kind TEXT NOT NULL, 
	consumer TEXT, 
	client TEXT, 
	user TEXT, 
	purpose TEXT, 
	application TEXT, 
	mode TEXT, 
	outcome TEXT NOT NULL, 
	resources JSON NOT NULL, 
	items JSON NOT NULL, 
	subjects JSON NOT NULL, 
	decisions JSON NOT NULL, 
	response_digest TEXT, 
	detail JSON NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_audit_events_instance_seq UNIQUE (instance, seq)
);
INSERT INTO audit_events VALUES('audit-ac4dcb5d8f85491f8774954e2fdfe183','main',1,'2026-11-30 17:07:40.271611','0000000000000000000000000000000000000000000000000000000000000000','ca39a5dc1ebf64fdcdb248272396bc89893cf97261ef42338d948b7d31e1150b','admin',NULL,NULL,NULL,NULL,NULL,NULL,'catalog.load','[]','[]','[]','{}',NULL,'{"files":{"/tmp/legacy-data/catalog.yaml":"b4b268a5c85ccf24dd08b4fd575be3ea4367d5ab8dd7dfe997cbaf6a5f1bea57"},"profile":"hubei","resources":["amr.enterprise_registration","credit.credit_record","ema.safety_inspection","hpf.deposit","hrss.social_insurance","mca.marriage","psb.resident","tax.tax_credit"]}');
INSERT INTO audit_events VALUES('audit-071f5402c0484f4c8afb82efbf0b6dee','main',2,'2026-11-30 17:07:40.714416','ca39a5dc1ebf64fdcdb248272396bc89893cf97261ef42338d948b7d31e1150b','d58b73b23effb99376c7ca98925149f7371b7e2c1acde8f3b13e15750d2a672c','query','11420100MB00020145','demo-drc',NULL,'行政审批核验',NULL,'query','answered','["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]','["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]','["91420102MA0000007H"]','{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}','c0f6aff796f4352bcfe5828b9f7884119fa17fb2c9c4c57e29c449717d572fd9','{"subjects_at":{"amr.enterprise_registration":["91420102MA0000007H"],"credit.credit_record":["91420102MA0000007H"],"tax.tax_credit":["91420102MA0000007H"]}}');
INSERT INTO audit_events VALUES('audit-63a03880b0f6433d9569f100864cd8af','main',3,'2026-11-30 17:07:40.737088','d58b73b23effb99376c7ca98925149f7371b7e2c1acde8f3b13e15750d2a672c','4e55ad58ac0dfb971879ad78731a361b94504f22dbfa6edc4ca95fdee57c48d6','query','11420100MB00020145','demo-drc',NULL,'行政审批核验',NULL,'query','answered','["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]','["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]','["91420103MA0000015T"]','{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}','7c298ab366129aae0fc80504c4d743c77dd7a1b85b83999454bb3a0fa47c5eae','{"subjects_at":{"amr.enterprise_registration":["91420103MA0000015T"],"credit.credit_record":["91420103MA0000015T"],"tax.tax_credit":["91420103MA0000015T"]}}');
INSERT INTO audit_events VALUES('audit-d996836bd924434090a1a149825611c8','main',4,'2026-11-30 17:07:40.761243','4e55ad58ac0dfb971879ad78731a361b94504f22dbfa6edc4ca95fdee57c48d6','832aea38f1e4bdc12aa54ca9d88fe9f0dfa20569ada8b23698f5935a63a79191','query','11420100MB00020145','demo-drc',NULL,'行政审批核验',NULL,'query','answered','["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]','["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]','["91420104MA00000234"]','{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}','f239f7df685ccac523568d3a38f54ebe72e50d3faedd5c00b723fbafb8688011','{"subjects_at":{"amr.enterprise_registration":["91420104MA00000234"],"credit.credit_record":["91420104MA00000234"],"tax.tax_credit":["91420104MA00000234"]}}');
INSERT INTO audit_events VALUES('audit-d504e87ae99d4ab6a22103169009d754','main',5,'2026-11-30 17:07:40.915615','832aea38f1e4bdc12aa54ca9d88fe9f0dfa20569ada8b23698f5935a63a79191','2bc41faea69bdf6fe1edbb60a67476730857d65683626b53085b728547d415a2','query','11420100MB00020145','demo-drc',NULL,'行政审批核验',NULL,'query','answered','["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]','["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]','["91420105MA0000031D"]','{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}','7085dc4685b455e9b8ebba4b490af2a74371977f585af845ae5f74aabbb7ada5','{"subjects_at":{"amr.enterprise_registration":["91420105MA0000031D"],"credit.credit_record":["91420105MA0000031D"],"tax.tax_credit":["91420105MA0000031D"]}}');
INSERT INTO audit_events VALUES('audit-be8d0bb78ba14e5eaf653ad7eb163387','main',6,'2026-11-30 17:07:40.999107','2bc41faea69bdf6fe1edbb60a67476730857d65683626b53085b728547d415a2','c0646e47076fcc71e6968e3a1981941d598bddb6ce4d54945d26eafa1e3d53db','query','11420100MB00020220','demo-housing',NULL,'行政审批核验',NULL,'query','partly_refused','["amr.enterprise_registration"]','["amr.enterprise_registration.legal_representative"]','["91420102MA0000007H"]','{"amr.enterprise_registration.legal_representative":"CONDITIONAL_ACCESS_REQUIRED"}','e5672f1ef9f7ef91432a0529f1f06442ec084ed7887ad97156a42c39182f8588','{"subjects_at":{"amr.enterprise_registration":["91420102MA0000007H"]}}');
INSERT INTO audit_events VALUES('audit-b1a18f25ba5948f683b6798a5356b763','main',7,'2026-11-30 17:07:41.030801','c0646e47076fcc71e6968e3a1981941d598bddb6ce4d54945d26eafa1e3d53db','d2c762b5d7f26ba576915c937b6cdcac2b260218fbe099bdf214957e938c6afc','query','11420100MB00020220','demo-housing',NULL,'行政审批核验',NULL,'query','partly_refused','["amr.enterprise_registration"]','["amr.enterprise_registration.legal_representative"]','["91420103MA0000015T"]','{"amr.enterprise_registration.legal_representative":"CONDITIONAL_ACCESS_REQUIRED"}','e5672f1ef9f7ef91432a0529f1f06442ec084ed7887ad97156a42c39182f8588','{"subjects_at":{"amr.enterprise_registration":["91420103MA0000015T"]}}');
INSERT INTO audit_events VALUES('audit-b093e1c824d046149488d10401c8a5c3','main',8,'2026-11-30 17:07:41.084227','d2c762b5d7f26ba576915c937b6cdcac2b260218fbe099bdf214957e938c6afc','6013f06d794e9a59db31348b8e059e406228ffee63e00fe13b269e97201e0ac8','workflow','11420100MB00020220','demo-housing',NULL,NULL,NULL,NULL,'submit','["amr.enterprise_registration"]','[]','[]','{}',NULL,'{"application":"app-8d2680707f50","reasons":[],"status":"submitted"}');
INSERT INTO audit_events VALUES('audit-563800b9cfb04404983fc1a9b9e7a367','main',9,'2026-11-30 17:07:41.198421','6013f06d794e9a59db31348b8e059e406228ffee63e00fe13b269e97201e0ac8','ac2b31eb0e202515752af65a3170e3de1e4067cb8b86a97811a5c6070ed4b82a','workflow','11420100MB00020145','demo-drc',NULL,NULL,NULL,NULL,'objection.raise','["amr.enterprise_registration"]','["amr.enterprise_registration.address"]','["91420102MA0000007H"]','{}',NULL,'{"objection":"obj-4c2365afcaa1","status":"open"}');
INSERT INTO audit_events VALUES('audit-37e3fbbcfccc4e86826efb98684e31a9','cli',1,'2026-11-30 17:07:41.620347','0000000000000000000000000000000000000000000000000000000000000000','7424f9538bfd494172f450836aad9162fd5ce5b22aa90812c4443eaf427943e9','admin',NULL,NULL,NULL,NULL,NULL,NULL,'client.create','[]','[]','[]','{}',NULL,'{"client_id":"client-b838bbf96916a0a0","created_at":"2026-11-30T17:07:41.583494+00:00","department":"11420100MB00020220","disabled":false,"name":"住房保障系统","roles":["consumer"]}');
INSERT INTO audit_events VALUES('audit-c925d080d6dc4c1591c3f587a5dd245f','cli',2,'2026-11-30 17:07:41.720587','7424f9538bfd494172f450836aad9162fd5ce5b22aa90812c4443eaf427943e9','4ebcd1fad80e9aa7e86ec397ef2c449ffcc4dbf784734840be941ff534b10ae3','admin',NULL,NULL,NULL,NULL,NULL,NULL,'grant.add','["amr.enterprise_registration"]','[]','[]','{}',NULL,'{"consumer":"11420100MB00020220","id":"grant-a90d21391776","items":["address"],"modes":["query"],"purpose":"住房保障资格审核","resource":"amr.enterprise_registration","revoked":false,"valid_from":"2026-11-30T17:07:41.671410+00:00","valid_until":"2026-12-30T17:07:41.629446+00:00"}');
INSERT INTO audit_events VALUES('audit-365c9d8710ca486f9570e6b9c58f7bab','cli',3,'2026-11-30 17:07:41.825346','4ebcd1fad80e9aa7e86ec397ef2c449ffcc4dbf784734840be941ff534b10ae3','2374b401d67c4252c2420f9e081e86d42661b042f1bb461c317072585dfe23e6','admin',NULL,NULL,NULL,NULL,NULL,NULL,'grant.add','["amr.enterprise_registration"]','[]','[]','{}',NULL,'{"consumer":"11420100MB00020220","id":"grant-74641059211e","items":["address"],"modes":["query"],"purpose":"住房保障资格审核","resource":"amr.enterprise_registration","revoked":false,"valid_from":"2026-11-30T17:07:41.781840+00:00","valid_until":"2026-12-30T17:07:41.629446+00:00"}');
INSERT INTO audit_events VALUES('audit-4d4795c60f3d4e879fecb4ab32181662','cli',4,'2026-11-30 17:07:41.967344','2374b401d67c4252c2420f9e081e86d42661b042f1bb461c317072585dfe23e6','14b52d1e5e3358f512f4456255b269c8ceb51e4165d21813ed8535e92fd31678','admin',NULL,NULL,NULL,NULL,NULL,NULL,'grant.revoke','["amr.enterprise_registration"]','[]','[]','{}',NULL,'{"grant":"grant-74641059211e"}');
INSERT INTO audit_events VALUES('audit-5fc3cdb9cc644da6868bdb36e2603770','cli',5,'2026-11-30 17:07:42.082280','14b52d1e5e3358f512f4456255b269c8ceb51e4165d21813ed8535e92fd31678','e0ca798a71df5c4cf64443b0ef479d8e3ce27102fe57e3a8bc27c97707565090','admin',NULL,NULL,NULL,NULL,NULL,NULL,'change.notify','["amr.enterprise_registration"]','[]','[]','{}',NULL,'{"change":"chg-96798c77cadf","late":false}');
CREATE TABLE audit_events_resources (
	resource TEXT NOT NULL, 
	event_id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (resource, event_id)
);
INSERT INTO audit_events_resources VALUES('tax.tax_credit','audit-071f5402c0484f4c8afb82efbf0b6dee');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-071f5402c0484f4c8afb82efbf0b6dee');
INSERT INTO audit_events_resources VALUES('credit.credit_record','audit-071f5402c0484f4c8afb82efbf0b6dee');
INSERT INTO audit_events_resources VALUES('tax.tax_credit','audit-63a03880b0f6433d9569f100864cd8af');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-63a03880b0f6433d9569f100864cd8af');
INSERT INTO audit_events_resources VALUES('credit.credit_record','audit-63a03880b0f6433d9569f100864cd8af');
INSERT INTO audit_events_resources VALUES('tax.tax_credit','audit-d996836bd924434090a1a149825611c8');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-d996836bd924434090a1a149825611c8');
INSERT INTO audit_events_resources VALUES('credit.credit_record','audit-d996836bd924434090a1a149825611c8');
INSERT INTO audit_events_resources VALUES('tax.tax_credit','audit-d504e87ae99d4ab6a22103169009d754');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-d504e87ae99d4ab6a22103169009d754');
INSERT INTO audit_events_resources VALUES('credit.credit_record','audit-d504e87ae99d4ab6a22103169009d754');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-be8d0bb78ba14e5eaf653ad7eb163387');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-b1a18f25ba5948f683b6798a5356b763');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-b093e1c824d046149488d10401c8a5c3');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-563800b9cfb04404983fc1a9b9e7a367');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-c925d080d6dc4c1591c3f587a5dd245f');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-365c9d8710ca486f9570e6b9c58f7bab');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-4d4795c60f3d4e879fecb4ab32181662');
INSERT INTO audit_events_resources VALUES('amr.enterprise_registration','audit-5fc3cdb9cc644da6868bdb36e2603770');
CREATE TABLE audit_events_usage (
	span SMALLINT NOT NULL, 
	bucket BIGINT NOT NULL, 
	department VARCHAR(64) NOT NULL, 
	mode VARCHAR(16) NOT NULL, 
	consumer VARCHAR(64) NOT NULL, 
	calls BIGINT NOT NULL, 
	refusals BIGINT NOT NULL, 
	unavailable BIGINT NOT NULL, 
	PRIMARY KEY (span, bucket, department, mode, consumer)
);
INSERT INTO audit_events_usage VALUES(0,498905,'11420100MB0001011L','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(0,498905,'11420100MB000102XC','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(0,498905,'11420100MB0001062W','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(1,20788,'11420100MB0001011L','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(1,20788,'11420100MB000102XC','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(1,20788,'11420100MB0001062W','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(2,24323,'11420100MB0001011L','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(2,24323,'11420100MB000102XC','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(2,24323,'11420100MB0001062W','query','11420100MB00020145',4,0,0);
INSERT INTO audit_events_usage VALUES(0,498905,'11420100MB0001011L','query','11420100MB00020220',2,2,0);
INSERT INTO audit_events_usage VALUES(1,20788,'11420100MB0001011L','query','11420100MB00020220',2,2,0);
INSERT INTO audit_events_usage VALUES(2,24323,'11420100MB0001011L','query','11420100MB00020220',2,2,0);
CREATE TABLE audit_events_meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO audit_events_meta VALUES('owners','{"amr.enterprise_registration": "11420100MB0001011L", "credit.credit_record": "11420100MB0001062W", "ema.safety_inspection": "11420100MB0001089L", "hpf.deposit": "11420100MB0001070P", "hrss.social_insurance": "11420100MB0001038C", "mca.marriage": "11420100MB00010542", "psb.resident": "11420100MB00010467", "tax.tax_credit": "11420100MB000102XC"}');
INSERT INTO audit_events_meta VALUES('usage_aggregates','1');
CREATE TABLE onboarding (
	department VARCHAR(18) NOT NULL, 
	commitment TEXT NOT NULL, 
	onboarded_at DATETIME NOT NULL, 
	onboarded_by VARCHAR(64) NOT NULL, 
	PRIMARY KEY (department)
);
CREATE TABLE change_notices (
	id VARCHAR(64) NOT NULL, 
	resource VARCHAR(128) NOT NULL, 
	provider VARCHAR(18) NOT NULL, 
	subjects JSON NOT NULL, 
	items JSON NOT NULL, 
	changed_at DATETIME NOT NULL, 
	notified_at DATETIME NOT NULL, 
	due DATE, 
	late BOOLEAN NOT NULL, 
	notified_by VARCHAR(18) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO change_notices VALUES('chg-96798c77cadf','amr.enterprise_registration','11420100MB0001011L','["91420103MA0000015T"]','["address"]','2026-11-30 17:07:42.043125','2026-11-30 17:07:42.043188','2026-12-03',0,'11420100MB0001011L');
CREATE TABLE change_source_stamps (
	resource VARCHAR(128) NOT NULL, 
	stamp DATETIME NOT NULL, 
	PRIMARY KEY (resource)
);
CREATE TABLE applications (
	id VARCHAR(64) NOT NULL, 
	consumer VARCHAR(18) NOT NULL, 
	provider VARCHAR(18) NOT NULL, 
	resource VARCHAR(128) NOT NULL, 
	items JSON NOT NULL, 
	modes JSON NOT NULL, 
	purpose TEXT NOT NULL, 
	scope_of_knowledge TEXT NOT NULL, 
	security_measures TEXT NOT NULL, 
	legal_basis TEXT NOT NULL, 
	valid_from DATETIME NOT NULL, 
	valid_until DATETIME NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	submitted_at DATETIME NOT NULL, 
	check_due DATE, 
	checked_at DATETIME, 
	decide_due DATE, 
	decided_at DATETIME, 
	decided_by VARCHAR(18), 
	notify_due DATE, 
	notified_at DATETIME, 
	reasons JSON NOT NULL, 
	grant_id VARCHAR(64), 
	calendar_warning TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO applications VALUES('app-7226991e6562','11420100MB00020145','11420100MB0001011L','amr.enterprise_registration','["uscc","name","registered_capital","status","registration_date","business_scope"]','["bulk","compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.485163','2027-11-30 17:07:38.485163','approved','2026-11-30 17:07:38.485242','2026-12-04','2026-11-30 17:07:38.498441','2026-12-15','2026-11-30 17:07:38.498991','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.498991','["platform grants unconditional items"]','grant-82f8b8e0acce',NULL);
INSERT INTO applications VALUES('app-afbbd891bde2','11420100MB00020145','11420100MB0001011L','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.526340','2027-11-30 17:07:38.526340','approved','2026-11-30 17:07:38.526406','2026-12-04','2026-11-30 17:07:38.532452','2026-12-15','2026-11-30 17:07:38.532946','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.532946','["platform grants unconditional items"]','grant-d43d05b68045',NULL);
INSERT INTO applications VALUES('app-d47e24c8c236','11420100MB00020145','11420100MB000102XC','tax.tax_credit','["uscc","credit_rating","taxpayer_type"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.542588','2027-11-30 17:07:38.542588','approved','2026-11-30 17:07:38.542643','2026-12-04','2026-11-30 17:07:38.554408','2026-12-15','2026-11-30 17:07:38.554916','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.554916','["platform grants unconditional items"]','grant-b71d1ff94288',NULL);
INSERT INTO applications VALUES('app-8131b4fcdb6e','11420100MB00020145','11420100MB0001038C','hrss.social_insurance','["uscc","insured_employees","contribution_status"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.560187','2027-11-30 17:07:38.560187','approved','2026-11-30 17:07:38.560238','2026-12-04','2026-11-30 17:07:38.578641','2026-12-15','2026-11-30 17:07:38.579198','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.579198','["platform grants unconditional items"]','grant-8bfdc2290222',NULL);
INSERT INTO applications VALUES('app-082d9b03581e','11420100MB00020145','11420100MB0001062W','credit.credit_record','["uscc","blacklisted","penalty_count"]','["bulk","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.586071','2027-11-30 17:07:38.586071','approved','2026-11-30 17:07:38.586127','2026-12-04','2026-11-30 17:07:38.591510','2026-12-15','2026-11-30 17:07:38.591997','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.591997','["platform grants unconditional items"]','grant-e91953447b02',NULL);
INSERT INTO applications VALUES('app-042259c1aa09','11420100MB00020145','11420100MB00010467','psb.resident','["id_number","gender","birth_date"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.603666','2027-11-30 17:07:38.603666','approved','2026-11-30 17:07:38.603711','2026-12-04','2026-11-30 17:07:38.618964','2026-12-15','2026-11-30 17:07:38.619425','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.619425','["platform grants unconditional items"]','grant-0b8d6dc80371',NULL);
INSERT INTO applications VALUES('app-423c4444d03d','11420100MB00020145','11420100MB00010467','psb.resident','["name"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.634058','2027-11-30 17:07:38.634058','approved','2026-11-30 17:07:38.634112','2026-12-04','2026-11-30 17:07:38.654997','2026-12-15','2026-11-30 17:07:38.655497','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.655497','["platform grants unconditional items"]','grant-a98207a24921',NULL);
INSERT INTO applications VALUES('app-75f537286f42','11420100MB00020145','11420100MB00010542','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.678177','2027-11-30 17:07:38.678177','approved','2026-11-30 17:07:38.678232','2026-12-04','2026-11-30 17:07:38.692966','2026-12-15','2026-11-30 17:07:38.693469','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.693469','["platform grants unconditional items"]','grant-82be96239311',NULL);
INSERT INTO applications VALUES('app-77a622c10d2d','11420100MB00020145','11420100MB0001070P','hpf.deposit','["uscc","deposit_status","covered_employees","last_paid_month"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.715576','2027-11-30 17:07:38.715576','approved','2026-11-30 17:07:38.715627','2026-12-04','2026-11-30 17:07:38.742307','2026-12-15','2026-11-30 17:07:38.742851','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.742851','["platform grants unconditional items"]','grant-0047fab01227',NULL);
INSERT INTO applications VALUES('app-ed1ad4ac108f','11420100MB00020145','11420100MB0001089L','ema.safety_inspection','["uscc","last_inspection","inspection_result","open_hazards"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.759322','2027-11-30 17:07:38.759322','approved','2026-11-30 17:07:38.759387','2026-12-04','2026-11-30 17:07:38.779018','2026-12-15','2026-11-30 17:07:38.779581','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.779581','["platform grants unconditional items"]','grant-a2beae381513',NULL);
INSERT INTO applications VALUES('app-e9047fe893e8','11420100MB00020220','11420100MB0001011L','amr.enterprise_registration','["uscc","name","registered_capital","status","registration_date","business_scope"]','["bulk","compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.789798','2027-11-30 17:07:38.789798','approved','2026-11-30 17:07:38.789952','2026-12-04','2026-11-30 17:07:38.795382','2026-12-15','2026-11-30 17:07:38.797770','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.797770','["platform grants unconditional items"]','grant-5a785b50471a',NULL);
INSERT INTO applications VALUES('app-968271d73cd8','11420100MB00020220','11420100MB0001011L','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.813946','2027-11-30 17:07:38.813946','approved','2026-11-30 17:07:38.813992','2026-12-04','2026-11-30 17:07:38.822638','2026-12-15','2026-11-30 17:07:38.823105','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.823105','["platform grants unconditional items"]','grant-53315f615050',NULL);
INSERT INTO applications VALUES('app-5ad612be52c5','11420100MB00020220','11420100MB000102XC','tax.tax_credit','["uscc","credit_rating","taxpayer_type"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.842008','2027-11-30 17:07:38.842008','approved','2026-11-30 17:07:38.842061','2026-12-04','2026-11-30 17:07:38.854962','2026-12-15','2026-11-30 17:07:38.855462','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.855462','["platform grants unconditional items"]','grant-7bacdecfb309',NULL);
INSERT INTO applications VALUES('app-a57a66331fb4','11420100MB00020220','11420100MB0001038C','hrss.social_insurance','["uscc","insured_employees","contribution_status"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.870209','2027-11-30 17:07:38.870209','approved','2026-11-30 17:07:38.870264','2026-12-04','2026-11-30 17:07:38.876436','2026-12-15','2026-11-30 17:07:38.876996','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.876996','["platform grants unconditional items"]','grant-8f5d07c21e05',NULL);
INSERT INTO applications VALUES('app-e3610351351f','11420100MB00020220','11420100MB0001062W','credit.credit_record','["uscc","blacklisted","penalty_count"]','["bulk","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.886202','2027-11-30 17:07:38.886202','approved','2026-11-30 17:07:38.886249','2026-12-04','2026-11-30 17:07:38.897830','2026-12-15','2026-11-30 17:07:38.898324','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.898324','["platform grants unconditional items"]','grant-cd3cca774d92',NULL);
INSERT INTO applications VALUES('app-598dbf03e87d','11420100MB00020220','11420100MB00010467','psb.resident','["id_number","gender","birth_date"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.909980','2027-11-30 17:07:38.909980','approved','2026-11-30 17:07:38.910024','2026-12-04','2026-11-30 17:07:38.922831','2026-12-15','2026-11-30 17:07:38.923285','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.923285','["platform grants unconditional items"]','grant-670abfd12cc6',NULL);
INSERT INTO applications VALUES('app-27865814e1a5','11420100MB00020220','11420100MB00010467','psb.resident','["name"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.930186','2027-11-30 17:07:38.930186','approved','2026-11-30 17:07:38.930233','2026-12-04','2026-11-30 17:07:38.945940','2026-12-15','2026-11-30 17:07:38.946429','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.946429','["platform grants unconditional items"]','grant-664904af96ad',NULL);
INSERT INTO applications VALUES('app-4f8cdc426098','11420100MB00020220','11420100MB00010542','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.954939','2027-11-30 17:07:38.954939','approved','2026-11-30 17:07:38.954988','2026-12-04','2026-11-30 17:07:38.962763','2026-12-15','2026-11-30 17:07:38.963232','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.963232','["platform grants unconditional items"]','grant-86b1f2525721',NULL);
INSERT INTO applications VALUES('app-2a846ff62aee','11420100MB00020220','11420100MB0001070P','hpf.deposit','["uscc","deposit_status","covered_employees","last_paid_month"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.971224','2027-11-30 17:07:38.971224','approved','2026-11-30 17:07:38.971270','2026-12-04','2026-11-30 17:07:38.978954','2026-12-15','2026-11-30 17:07:38.979394','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.979394','["platform grants unconditional items"]','grant-3910f086cc6c',NULL);
INSERT INTO applications VALUES('app-6f1a658b955a','11420100MB00020220','11420100MB0001089L','ema.safety_inspection','["uscc","last_inspection","inspection_result","open_hazards"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:38.988361','2027-11-30 17:07:38.988361','approved','2026-11-30 17:07:38.988407','2026-12-04','2026-11-30 17:07:38.997375','2026-12-15','2026-11-30 17:07:38.997894','11420100MB0002030T','2026-12-02','2026-11-30 17:07:38.997894','["platform grants unconditional items"]','grant-7ca91c5dd1c3',NULL);
INSERT INTO applications VALUES('app-fdb8c87cebef','11420100MB0002030T','11420100MB0001011L','amr.enterprise_registration','["uscc","name","registered_capital","status","registration_date","business_scope"]','["bulk","compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.001565','2027-11-30 17:07:39.001565','approved','2026-11-30 17:07:39.001674','2026-12-04','2026-11-30 17:07:39.018896','2026-12-15','2026-11-30 17:07:39.019358','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.019358','["platform grants unconditional items"]','grant-0f5a70fa097d',NULL);
INSERT INTO applications VALUES('app-fbe9baf35415','11420100MB0002030T','11420100MB0001011L','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.026479','2027-11-30 17:07:39.026479','approved','2026-11-30 17:07:39.026521','2026-12-04','2026-11-30 17:07:39.031024','2026-12-15','2026-11-30 17:07:39.031457','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.031457','["platform grants unconditional items"]','grant-30c4d2216da3',NULL);
INSERT INTO applications VALUES('app-d25d6a081c9e','11420100MB0002030T','11420100MB000102XC','tax.tax_credit','["uscc","credit_rating","taxpayer_type"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.039882','2027-11-30 17:07:39.039882','approved','2026-11-30 17:07:39.039927','2026-12-04','2026-11-30 17:07:39.047480','2026-12-15','2026-11-30 17:07:39.047914','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.047914','["platform grants unconditional items"]','grant-97c0bcea902e',NULL);
INSERT INTO applications VALUES('app-779f369f7cf8','11420100MB0002030T','11420100MB0001038C','hrss.social_insurance','["uscc","insured_employees","contribution_status"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.055171','2027-11-30 17:07:39.055171','approved','2026-11-30 17:07:39.055224','2026-12-04','2026-11-30 17:07:39.063623','2026-12-15','2026-11-30 17:07:39.064039','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.064039','["platform grants unconditional items"]','grant-a71ad9ccdb98',NULL);
INSERT INTO applications VALUES('app-d515f1abc446','11420100MB0002030T','11420100MB0001062W','credit.credit_record','["uscc","blacklisted","penalty_count"]','["bulk","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.067007','2027-11-30 17:07:39.067007','approved','2026-11-30 17:07:39.067049','2026-12-04','2026-11-30 17:07:39.082638','2026-12-15','2026-11-30 17:07:39.083077','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.083077','["platform grants unconditional items"]','grant-87f1fdd21abb',NULL);
INSERT INTO applications VALUES('app-16d9cd8579f6','11420100MB0002030T','11420100MB00010467','psb.resident','["id_number","gender","birth_date"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.096172','2027-11-30 17:07:39.096172','approved','2026-11-30 17:07:39.096223','2026-12-04','2026-11-30 17:07:39.116364','2026-12-15','2026-11-30 17:07:39.116957','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.116957','["platform grants unconditional items"]','grant-1db0c4dfde11',NULL);
INSERT INTO applications VALUES('app-54d98ab6a3d3','11420100MB0002030T','11420100MB00010467','psb.resident','["name"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.142761','2027-11-30 17:07:39.142761','approved','2026-11-30 17:07:39.142821','2026-12-04','2026-11-30 17:07:39.157989','2026-12-15','2026-11-30 17:07:39.158466','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.158466','["platform grants unconditional items"]','grant-c4b3302277e4',NULL);
INSERT INTO applications VALUES('app-d2ac201a6743','11420100MB0002030T','11420100MB00010542','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.169882','2027-11-30 17:07:39.169882','approved','2026-11-30 17:07:39.169927','2026-12-04','2026-11-30 17:07:39.178149','2026-12-15','2026-11-30 17:07:39.178641','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.178641','["platform grants unconditional items"]','grant-29d3213232d1',NULL);
INSERT INTO applications VALUES('app-4e8f8acf015e','11420100MB0002030T','11420100MB0001070P','hpf.deposit','["uscc","deposit_status","covered_employees","last_paid_month"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.187307','2027-11-30 17:07:39.187307','approved','2026-11-30 17:07:39.187363','2026-12-04','2026-11-30 17:07:39.197142','2026-12-15','2026-11-30 17:07:39.198169','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.198169','["platform grants unconditional items"]','grant-390792367e79',NULL);
INSERT INTO applications VALUES('app-172b71513daf','11420100MB0002030T','11420100MB0001089L','ema.safety_inspection','["uscc","last_inspection","inspection_result","open_hazards"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.209755','2027-11-30 17:07:39.209755','approved','2026-11-30 17:07:39.209798','2026-12-04','2026-11-30 17:07:39.230035','2026-12-15','2026-11-30 17:07:39.230476','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.230476','["platform grants unconditional items"]','grant-ff6d00d73d8b',NULL);
INSERT INTO applications VALUES('app-cd19128910ea','11420100MB0001011L','11420100MB0001011L','amr.enterprise_registration','["uscc","name","registered_capital","status","registration_date","business_scope"]','["bulk","compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.246648','2027-11-30 17:07:39.246648','approved','2026-11-30 17:07:39.246695','2026-12-04','2026-11-30 17:07:39.258173','2026-12-15','2026-11-30 17:07:39.258638','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.258638','["platform grants unconditional items"]','grant-98c0afaf9645',NULL);
INSERT INTO applications VALUES('app-cfa49c4b241b','11420100MB0001011L','11420100MB0001011L','amr.enterprise_registration','["legal_representative"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.263199','2027-11-30 17:07:39.263199','approved','2026-11-30 17:07:39.263246','2026-12-04','2026-11-30 17:07:39.270728','2026-12-15','2026-11-30 17:07:39.271199','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.271199','["platform grants unconditional items"]','grant-4323105d66f9',NULL);
INSERT INTO applications VALUES('app-8671b9f94557','11420100MB0001011L','11420100MB000102XC','tax.tax_credit','["uscc","credit_rating","taxpayer_type"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.281461','2027-11-30 17:07:39.281461','approved','2026-11-30 17:07:39.281508','2026-12-04','2026-11-30 17:07:39.289421','2026-12-15','2026-11-30 17:07:39.289974','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.289974','["platform grants unconditional items"]','grant-7732d79affd9',NULL);
INSERT INTO applications VALUES('app-2cb2375303da','11420100MB0001011L','11420100MB0001038C','hrss.social_insurance','["uscc","insured_employees","contribution_status"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.297350','2027-11-30 17:07:39.297350','approved','2026-11-30 17:07:39.297394','2026-12-04','2026-11-30 17:07:39.306642','2026-12-15','2026-11-30 17:07:39.307165','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.307165','["platform grants unconditional items"]','grant-13f2a4d90da1',NULL);
INSERT INTO applications VALUES('app-302173e528bd','11420100MB0001011L','11420100MB0001062W','credit.credit_record','["uscc","blacklisted","penalty_count"]','["bulk","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.330096','2027-11-30 17:07:39.330096','approved','2026-11-30 17:07:39.330149','2026-12-04','2026-11-30 17:07:39.343330','2026-12-15','2026-11-30 17:07:39.343788','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.343788','["platform grants unconditional items"]','grant-d1e9f19c5aff',NULL);
INSERT INTO applications VALUES('app-51e9857a4dce','11420100MB0001011L','11420100MB00010467','psb.resident','["id_number","gender","birth_date"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.349264','2027-11-30 17:07:39.349264','approved','2026-11-30 17:07:39.349306','2026-12-04','2026-11-30 17:07:39.360740','2026-12-15','2026-11-30 17:07:39.366085','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.366085','["platform grants unconditional items"]','grant-3b6eab1ea8be',NULL);
INSERT INTO applications VALUES('app-3eeef24b1c0c','11420100MB0001011L','11420100MB00010467','psb.resident','["name"]','["compare"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.375419','2027-11-30 17:07:39.375419','approved','2026-11-30 17:07:39.375463','2026-12-04','2026-11-30 17:07:39.378312','2026-12-15','2026-11-30 17:07:39.378724','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.378724','["platform grants unconditional items"]','grant-7445179f12ec',NULL);
INSERT INTO applications VALUES('app-8fc797513166','11420100MB0001011L','11420100MB00010542','mca.marriage','["id_number"]','["compare","query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.381472','2027-11-30 17:07:39.381472','approved','2026-11-30 17:07:39.381513','2026-12-04','2026-11-30 17:07:39.397505','2026-12-15','2026-11-30 17:07:39.399654','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.399654','["platform grants unconditional items"]','grant-de50ce8473d3',NULL);
INSERT INTO applications VALUES('app-d9954d4a53bd','11420100MB0001011L','11420100MB0001070P','hpf.deposit','["uscc","deposit_status","covered_employees","last_paid_month"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.423302','2027-11-30 17:07:39.423302','approved','2026-11-30 17:07:39.423349','2026-12-04','2026-11-30 17:07:39.439877','2026-12-15','2026-11-30 17:07:39.440440','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.440440','["platform grants unconditional items"]','grant-f070247fdb2a',NULL);
INSERT INTO applications VALUES('app-79f6e1db251c','11420100MB0001011L','11420100MB0001089L','ema.safety_inspection','["uscc","last_inspection","inspection_result","open_hazards"]','["query"]','行政审批核验','本部门业务经办人员','专网访问,按岗位授权,全程留痕','《湖北省政务信息资源共享管理办法》 art. 18-22','2026-11-30 17:07:39.444148','2027-11-30 17:07:39.444148','approved','2026-11-30 17:07:39.444194','2026-12-04','2026-11-30 17:07:39.458810','2026-12-15','2026-11-30 17:07:39.459326','11420100MB0002030T','2026-12-02','2026-11-30 17:07:39.459326','["platform grants unconditional items"]','grant-c2c4c0c449d3',NULL);
INSERT INTO applications VALUES('app-8d2680707f50','11420100MB00020220','11420100MB0001011L','amr.enterprise_registration','["address"]','["query"]','住房保障资格审核','住房保障科审核人员','政务外网专线，调用留痕','《公共租赁住房管理办法》第八条','2026-11-30 17:07:41.058320','2027-02-28 17:07:41.050599','submitted','2026-11-30 17:07:41.058391','2026-12-04',NULL,NULL,NULL,NULL,NULL,NULL,'[]',NULL,NULL);
CREATE TABLE application_events (
	id INTEGER NOT NULL, 
	application VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(18) NOT NULL, 
	client VARCHAR(128) NOT NULL, 
	user TEXT, 
	action VARCHAR(32) NOT NULL, 
	from_status VARCHAR(16), 
	to_status VARCHAR(16) NOT NULL, 
	reasons JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO application_events VALUES(1,'app-7226991e6562','2026-11-30 17:07:38.485727','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(2,'app-7226991e6562','2026-11-30 17:07:38.498462','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(3,'app-7226991e6562','2026-11-30 17:07:38.498994','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(4,'app-7226991e6562','2026-11-30 17:07:38.499056','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(5,'app-afbbd891bde2','2026-11-30 17:07:38.526692','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(6,'app-afbbd891bde2','2026-11-30 17:07:38.532466','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(7,'app-afbbd891bde2','2026-11-30 17:07:38.532948','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(8,'app-afbbd891bde2','2026-11-30 17:07:38.533000','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(9,'app-d47e24c8c236','2026-11-30 17:07:38.542917','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(10,'app-d47e24c8c236','2026-11-30 17:07:38.554426','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(11,'app-d47e24c8c236','2026-11-30 17:07:38.554919','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(12,'app-d47e24c8c236','2026-11-30 17:07:38.554975','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(13,'app-8131b4fcdb6e','2026-11-30 17:07:38.560485','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(14,'app-8131b4fcdb6e','2026-11-30 17:07:38.578655','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(15,'app-8131b4fcdb6e','2026-11-30 17:07:38.579201','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(16,'app-8131b4fcdb6e','2026-11-30 17:07:38.579255','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(17,'app-082d9b03581e','2026-11-30 17:07:38.586363','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(18,'app-082d9b03581e','2026-11-30 17:07:38.591523','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(19,'app-082d9b03581e','2026-11-30 17:07:38.591999','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(20,'app-082d9b03581e','2026-11-30 17:07:38.592051','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(21,'app-042259c1aa09','2026-11-30 17:07:38.603927','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(22,'app-042259c1aa09','2026-11-30 17:07:38.618978','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(23,'app-042259c1aa09','2026-11-30 17:07:38.619428','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(24,'app-042259c1aa09','2026-11-30 17:07:38.619479','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(25,'app-423c4444d03d','2026-11-30 17:07:38.634349','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(26,'app-423c4444d03d','2026-11-30 17:07:38.655012','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(27,'app-423c4444d03d','2026-11-30 17:07:38.655500','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(28,'app-423c4444d03d','2026-11-30 17:07:38.655563','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(29,'app-75f537286f42','2026-11-30 17:07:38.678508','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(30,'app-75f537286f42','2026-11-30 17:07:38.692982','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(31,'app-75f537286f42','2026-11-30 17:07:38.693472','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(32,'app-75f537286f42','2026-11-30 17:07:38.693526','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(33,'app-77a622c10d2d','2026-11-30 17:07:38.715889','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(34,'app-77a622c10d2d','2026-11-30 17:07:38.742326','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(35,'app-77a622c10d2d','2026-11-30 17:07:38.742853','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(36,'app-77a622c10d2d','2026-11-30 17:07:38.742914','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(37,'app-ed1ad4ac108f','2026-11-30 17:07:38.759705','11420100MB00020145','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(38,'app-ed1ad4ac108f','2026-11-30 17:07:38.779033','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(39,'app-ed1ad4ac108f','2026-11-30 17:07:38.779584','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(40,'app-ed1ad4ac108f','2026-11-30 17:07:38.779639','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020145 told: approved"]');
INSERT INTO application_events VALUES(41,'app-e9047fe893e8','2026-11-30 17:07:38.790273','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(42,'app-e9047fe893e8','2026-11-30 17:07:38.795396','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(43,'app-e9047fe893e8','2026-11-30 17:07:38.797775','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(44,'app-e9047fe893e8','2026-11-30 17:07:38.797845','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(45,'app-968271d73cd8','2026-11-30 17:07:38.814208','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(46,'app-968271d73cd8','2026-11-30 17:07:38.822652','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(47,'app-968271d73cd8','2026-11-30 17:07:38.823107','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(48,'app-968271d73cd8','2026-11-30 17:07:38.823157','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(49,'app-5ad612be52c5','2026-11-30 17:07:38.842383','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(50,'app-5ad612be52c5','2026-11-30 17:07:38.854977','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(51,'app-5ad612be52c5','2026-11-30 17:07:38.855464','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(52,'app-5ad612be52c5','2026-11-30 17:07:38.855515','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(53,'app-a57a66331fb4','2026-11-30 17:07:38.870609','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(54,'app-a57a66331fb4','2026-11-30 17:07:38.876449','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(55,'app-a57a66331fb4','2026-11-30 17:07:38.876999','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(56,'app-a57a66331fb4','2026-11-30 17:07:38.877051','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(57,'app-e3610351351f','2026-11-30 17:07:38.886479','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(58,'app-e3610351351f','2026-11-30 17:07:38.897845','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(59,'app-e3610351351f','2026-11-30 17:07:38.898326','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(60,'app-e3610351351f','2026-11-30 17:07:38.898378','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(61,'app-598dbf03e87d','2026-11-30 17:07:38.910247','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(62,'app-598dbf03e87d','2026-11-30 17:07:38.922843','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(63,'app-598dbf03e87d','2026-11-30 17:07:38.923287','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(64,'app-598dbf03e87d','2026-11-30 17:07:38.923334','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(65,'app-27865814e1a5','2026-11-30 17:07:38.930471','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(66,'app-27865814e1a5','2026-11-30 17:07:38.945977','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(67,'app-27865814e1a5','2026-11-30 17:07:38.946432','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(68,'app-27865814e1a5','2026-11-30 17:07:38.946483','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(69,'app-4f8cdc426098','2026-11-30 17:07:38.955208','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(70,'app-4f8cdc426098','2026-11-30 17:07:38.962774','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(71,'app-4f8cdc426098','2026-11-30 17:07:38.963235','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(72,'app-4f8cdc426098','2026-11-30 17:07:38.963287','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(73,'app-2a846ff62aee','2026-11-30 17:07:38.971492','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(74,'app-2a846ff62aee','2026-11-30 17:07:38.978966','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(75,'app-2a846ff62aee','2026-11-30 17:07:38.979396','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(76,'app-2a846ff62aee','2026-11-30 17:07:38.979446','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(77,'app-6f1a658b955a','2026-11-30 17:07:38.988622','11420100MB00020220','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(78,'app-6f1a658b955a','2026-11-30 17:07:38.997387','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(79,'app-6f1a658b955a','2026-11-30 17:07:38.997897','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(80,'app-6f1a658b955a','2026-11-30 17:07:38.997954','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB00020220 told: approved"]');
INSERT INTO application_events VALUES(81,'app-fdb8c87cebef','2026-11-30 17:07:39.001894','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(82,'app-fdb8c87cebef','2026-11-30 17:07:39.018909','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(83,'app-fdb8c87cebef','2026-11-30 17:07:39.019360','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(84,'app-fdb8c87cebef','2026-11-30 17:07:39.019411','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(85,'app-fbe9baf35415','2026-11-30 17:07:39.026731','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(86,'app-fbe9baf35415','2026-11-30 17:07:39.031036','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(87,'app-fbe9baf35415','2026-11-30 17:07:39.031459','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(88,'app-fbe9baf35415','2026-11-30 17:07:39.031517','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(89,'app-d25d6a081c9e','2026-11-30 17:07:39.040150','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(90,'app-d25d6a081c9e','2026-11-30 17:07:39.047491','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(91,'app-d25d6a081c9e','2026-11-30 17:07:39.047916','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(92,'app-d25d6a081c9e','2026-11-30 17:07:39.047975','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(93,'app-779f369f7cf8','2026-11-30 17:07:39.055436','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(94,'app-779f369f7cf8','2026-11-30 17:07:39.063639','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(95,'app-779f369f7cf8','2026-11-30 17:07:39.064041','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(96,'app-779f369f7cf8','2026-11-30 17:07:39.064088','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(97,'app-d515f1abc446','2026-11-30 17:07:39.067278','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(98,'app-d515f1abc446','2026-11-30 17:07:39.082649','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(99,'app-d515f1abc446','2026-11-30 17:07:39.083080','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(100,'app-d515f1abc446','2026-11-30 17:07:39.083132','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(101,'app-16d9cd8579f6','2026-11-30 17:07:39.096477','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(102,'app-16d9cd8579f6','2026-11-30 17:07:39.116379','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(103,'app-16d9cd8579f6','2026-11-30 17:07:39.116961','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(104,'app-16d9cd8579f6','2026-11-30 17:07:39.117021','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(105,'app-54d98ab6a3d3','2026-11-30 17:07:39.143075','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(106,'app-54d98ab6a3d3','2026-11-30 17:07:39.158003','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(107,'app-54d98ab6a3d3','2026-11-30 17:07:39.158469','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(108,'app-54d98ab6a3d3','2026-11-30 17:07:39.158522','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(109,'app-d2ac201a6743','2026-11-30 17:07:39.170156','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(110,'app-d2ac201a6743','2026-11-30 17:07:39.178163','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(111,'app-d2ac201a6743','2026-11-30 17:07:39.178643','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(112,'app-d2ac201a6743','2026-11-30 17:07:39.178705','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(113,'app-4e8f8acf015e','2026-11-30 17:07:39.187611','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(114,'app-4e8f8acf015e','2026-11-30 17:07:39.197155','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(115,'app-4e8f8acf015e','2026-11-30 17:07:39.198173','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(116,'app-4e8f8acf015e','2026-11-30 17:07:39.198237','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(117,'app-172b71513daf','2026-11-30 17:07:39.210003','11420100MB0002030T','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(118,'app-172b71513daf','2026-11-30 17:07:39.230047','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(119,'app-172b71513daf','2026-11-30 17:07:39.230478','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(120,'app-172b71513daf','2026-11-30 17:07:39.230534','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0002030T told: approved"]');
INSERT INTO application_events VALUES(121,'app-cd19128910ea','2026-11-30 17:07:39.247003','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(122,'app-cd19128910ea','2026-11-30 17:07:39.258187','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(123,'app-cd19128910ea','2026-11-30 17:07:39.258640','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(124,'app-cd19128910ea','2026-11-30 17:07:39.258691','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(125,'app-cfa49c4b241b','2026-11-30 17:07:39.263477','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(126,'app-cfa49c4b241b','2026-11-30 17:07:39.270740','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(127,'app-cfa49c4b241b','2026-11-30 17:07:39.271201','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(128,'app-cfa49c4b241b','2026-11-30 17:07:39.271262','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(129,'app-8671b9f94557','2026-11-30 17:07:39.281837','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(130,'app-8671b9f94557','2026-11-30 17:07:39.289440','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(131,'app-8671b9f94557','2026-11-30 17:07:39.289976','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(132,'app-8671b9f94557','2026-11-30 17:07:39.290026','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(133,'app-2cb2375303da','2026-11-30 17:07:39.297707','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(134,'app-2cb2375303da','2026-11-30 17:07:39.306654','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(135,'app-2cb2375303da','2026-11-30 17:07:39.307167','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(136,'app-2cb2375303da','2026-11-30 17:07:39.307218','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(137,'app-302173e528bd','2026-11-30 17:07:39.330385','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(138,'app-302173e528bd','2026-11-30 17:07:39.343345','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(139,'app-302173e528bd','2026-11-30 17:07:39.343791','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(140,'app-302173e528bd','2026-11-30 17:07:39.343845','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(141,'app-51e9857a4dce','2026-11-30 17:07:39.349529','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(142,'app-51e9857a4dce','2026-11-30 17:07:39.360753','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(143,'app-51e9857a4dce','2026-11-30 17:07:39.366089','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(144,'app-51e9857a4dce','2026-11-30 17:07:39.366183','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(145,'app-3eeef24b1c0c','2026-11-30 17:07:39.375685','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(146,'app-3eeef24b1c0c','2026-11-30 17:07:39.378323','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(147,'app-3eeef24b1c0c','2026-11-30 17:07:39.378725','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(148,'app-3eeef24b1c0c','2026-11-30 17:07:39.378770','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(149,'app-8fc797513166','2026-11-30 17:07:39.381810','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(150,'app-8fc797513166','2026-11-30 17:07:39.397519','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(151,'app-8fc797513166','2026-11-30 17:07:39.399657','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(152,'app-8fc797513166','2026-11-30 17:07:39.399726','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(153,'app-d9954d4a53bd','2026-11-30 17:07:39.423584','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(154,'app-d9954d4a53bd','2026-11-30 17:07:39.439890','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(155,'app-d9954d4a53bd','2026-11-30 17:07:39.440444','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(156,'app-d9954d4a53bd','2026-11-30 17:07:39.440497','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(157,'app-79f6e1db251c','2026-11-30 17:07:39.444419','11420100MB0001011L','govshare-demo',NULL,'submit',NULL,'submitted','[]');
INSERT INTO application_events VALUES(158,'app-79f6e1db251c','2026-11-30 17:07:39.458828','11420100MB0002030T','govshare-demo',NULL,'accept','submitted','accepted','["demo: application accepted"]');
INSERT INTO application_events VALUES(159,'app-79f6e1db251c','2026-11-30 17:07:39.459334','11420100MB0002030T','govshare-demo',NULL,'approve','accepted','approved','["platform grants unconditional items"]');
INSERT INTO application_events VALUES(160,'app-79f6e1db251c','2026-11-30 17:07:39.459394','11420100MB0002030T','govshare-demo',NULL,'notify','approved','approved','["11420100MB0001011L told: approved"]');
INSERT INTO application_events VALUES(161,'app-8d2680707f50','2026-11-30 17:07:41.058789','11420100MB00020220','demo-housing',NULL,'submit',NULL,'submitted','[]');
CREATE TABLE objections (
	id VARCHAR(64) NOT NULL, 
	consumer VARCHAR(18) NOT NULL, 
	provider VARCHAR(18) NOT NULL, 
	resource VARCHAR(128) NOT NULL, 
	subject VARCHAR(18) NOT NULL, 
	item VARCHAR(128) NOT NULL, 
	reason TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	raised_at DATETIME NOT NULL, 
	due DATE NOT NULL, 
	statutory BOOLEAN NOT NULL, 
	basis TEXT NOT NULL, 
	answered_at DATETIME, 
	answered_by VARCHAR(18), 
	outcome VARCHAR(16), 
	note TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO objections VALUES('obj-4c2365afcaa1','11420100MB00020145','11420100MB0001011L','amr.enterprise_registration','91420102MA0000007H','address','住所与营业执照不一致','open','2026-11-30 17:07:41.143966','2026-12-08',0,'《湖北省政务信息资源共享管理办法》 art. 23: promptly (及时); operator default',NULL,NULL,NULL,NULL);
CREATE TABLE objection_events (
	id INTEGER NOT NULL, 
	objection VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(18) NOT NULL, 
	client VARCHAR(128) NOT NULL, 
	user TEXT, 
	action VARCHAR(16) NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO objection_events VALUES(1,'obj-4c2365afcaa1','2026-11-30 17:07:41.144398','11420100MB00020145','demo-drc',NULL,'raise','住所与营业执照不一致');
CREATE TABLE oauth_clients (
	client_id VARCHAR(64) NOT NULL, 
	department VARCHAR(18) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	roles JSON NOT NULL, 
	grant_types JSON NOT NULL, 
	secret_hash VARCHAR(256) NOT NULL, 
	created_at DATETIME NOT NULL, 
	disabled_at DATETIME, 
	PRIMARY KEY (client_id)
);
INSERT INTO oauth_clients VALUES('client-b838bbf96916a0a0','11420100MB00020220','住房保障系统','["consumer"]','["client_credentials"]','scrypt$16384$8$1$iiNNsMI9U6mau8uOY7pMKQ$7G4OwLE4b_RYofBm9l8trASBkxZVBjZVfJo2SsKsYBZ3_2OvV-pIkPMURVkulzaXO-p2mFMK0XPocMYEkqxoKA','2026-11-30 17:07:41.583494',NULL);
CREATE INDEX ix_grants_consumer ON grants (consumer);
CREATE INDEX ix_audit_events_time ON audit_events (time);
CREATE INDEX ix_audit_events_order ON audit_events (time, instance, seq);
CREATE INDEX ix_audit_events_consumer ON audit_events (consumer);
CREATE INDEX ix_change_notices_resource ON change_notices (resource);
CREATE INDEX ix_change_notices_provider ON change_notices (provider);
CREATE INDEX ix_change_notices_notified_at ON change_notices (notified_at);
CREATE INDEX ix_applications_provider ON applications (provider);
CREATE INDEX ix_applications_status ON applications (status);
CREATE INDEX ix_applications_consumer ON applications (consumer);
CREATE INDEX ix_application_events_application ON application_events (application);
CREATE INDEX ix_objections_provider ON objections (provider);
CREATE INDEX ix_objections_resource ON objections (resource);
CREATE INDEX ix_objections_consumer ON objections (consumer);
CREATE INDEX ix_objections_subject ON objections (subject);
CREATE INDEX ix_objections_status ON objections (status);
CREATE INDEX ix_objection_events_objection ON objection_events (objection);
CREATE INDEX ix_oauth_clients_department ON oauth_clients (department);
COMMIT;
