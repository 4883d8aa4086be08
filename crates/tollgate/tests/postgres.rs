//! PostgreSQL push-down against a real server: the same fixture in PostgreSQL and in a CSV
//! file, the same suite down both paths, the same findings. Needs `TOLLGATE_TEST_PG_URL`
//! (`bash .ci/run` starts a server and sets it); without it these tests fail, saying how.

use std::path::Path;

use serde_json::Value as Json;
use tokio_postgres::{Client, NoTls};
use tollgate::{Engine, Finding, Status, TestResult};

const URL_ENV: &str = "TOLLGATE_TEST_PG_URL";

fn url() -> String {
    std::env::var(URL_ENV).unwrap_or_else(|_| {
        panic!(
            "{URL_ENV} is not set: these tests need a PostgreSQL server. Start one and set it, e.g.\n  \
             pg_ctlcluster 15 main start\n  \
             su postgres -c \"psql -c \\\"CREATE ROLE tollgate LOGIN PASSWORD 'tollgate'\\\"\"\n  \
             su postgres -c \"createdb -O tollgate tollgate\"\n  \
             export {URL_ENV}=postgres://tollgate:tollgate@localhost:5432/tollgate\n\
             (bash .ci/run does all of this)"
        )
    })
}

async fn client() -> Client {
    let (client, conn) = tokio_postgres::connect(&url(), NoTls)
        .await
        .expect("connect to TOLLGATE_TEST_PG_URL");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A schema of this test's own, dropped by `drop_schema`.
async fn new_schema(client: &Client, test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("tg_{test}_{}_{nanos}", std::process::id());
    client
        .batch_execute(&format!("CREATE SCHEMA \"{name}\""))
        .await
        .expect("create schema");
    name
}

async fn drop_schema(client: &Client, schema: &str) {
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .expect("drop schema");
}

/// The fixture: rows as CSV text (header first); the same rows go into PostgreSQL with COPY.
const FIXTURE: &str = "\
id,amount,country,email,flag,day
1,10.5,US,a@x.com,true,2024-01-01
2,20.0,GB,b@x.com,false,2024-01-02
3,,DE,c@x.com,true,2024-01-03
4,-5.0,FR,bad email,true,2024-01-04
5,7.25,US,e@x.com,false,2024-01-05
5,30.0,GB,f@x.com,true,2024-01-06
7,99.0,us,g@x.com,,2024-01-07
8,1.0,DE,,true,2024-01-08
9,2.0,US,i@x.com,false,
10,3.5,GB,j@x.com,true,2024-01-10
";

const SUITE: &str = r#"
    table:
      row_count: { between: [1, 100] }
      columns: { include: [id, amount, country] }
    columns:
      id: { type: int64, not_null: true, unique: true, between: [0, 8], min: { at_least: 1 }, max: { at_most: 100 }, distinct_count: { at_least: 10 } }
      amount: { type: float64, not_null: true, null_fraction: { at_most: 0.05 }, between: [0, 50], min: { at_least: 0 }, max: { at_most: 100 }, mean: { between: [0, 50] }, median: { at_least: 0 }, stdev: { at_most: 10 }, sum: { at_least: 0 } }
      country: { type: string, in_set: [US, GB, DE], matches: '^[A-Z]{2}$', length: 2, min: { at_least: A }, unique_fraction: { at_most: 0.5 } }
      email: { not_null: true, matches: '^[^@ ]+@[^@ ]+$', not_matches: '\s' }
      flag: { type: bool, not_null: { mostly: 0.8 }, mean: { between: [0.5, 1] } }
      day: { type: date, min: { at_least: '2024-01-02' }, max: { at_most: '2024-12-31' } }
"#;

/// Checks that do not push down: errors on PostgreSQL, never skipped.
const UNSUPPORTED: &str = r#"
    columns:
      id: { increasing: true }
      email: { date_format: '%Y-%m-%d' }
"#;

/// Checks over several columns, groups, statistics and the user's SQL.
const MORE: &str = r#"
    table:
      unique: [country, flag]
    columns:
      country: { distinct_values: { in: [US, GB, DE, FR] }, most_common_in_set: [US] }
      amount: { z_score: { threshold: 1.5, mostly: 0.5 }, non_null_fraction: { at_least: 0.95 } }
      email: { null: { mostly: 0.05 } }
    rows:
      - { name: positive, condition: "amount > 0" }
      - { compare: [id, '<=', amount] }
      - { equal: [country, country] }
      - { sum_equals: { columns: [id, amount], total: 11.5 } }
    aggregates:
      - { name: share, sql: "avg(CASE WHEN flag THEN 1.0 ELSE 0.0 END)", between: [0.5, 1] }
      - { name: total, sql: "sum(id)", equals: 54 }
    expectations:
      - { type: expect_column_to_exist, kwargs: { column: email } }
      - { type: expect_column_values_to_match_regex_list, kwargs: { column: email, regex_list: ['@x\.com$', '^bad'] } }
      - { type: expect_column_values_to_match_like_pattern, kwargs: { column: country, like_pattern: '_S' } }
      - { type: expect_column_values_to_be_in_type_list, kwargs: { column: id, type_list: [int64] } }
      - { type: expect_column_pair_values_to_be_in_set, kwargs: { column_A: id, column_B: country, value_pairs_set: [[1, US], [2, GB]] } }
      - { type: expect_select_column_values_to_be_unique_within_record, kwargs: { column_list: [country, email] } }
      - { type: expect_multicolumn_values_to_be_equal, kwargs: { column_list: [country, email] } }
      - { type: expect_column_kl_divergence_to_be_less_than, kwargs: { column: country, partition_object: { values: [US, GB, DE, FR, us], weights: [0.3, 0.3, 0.2, 0.1, 0.1] }, threshold: 0.1 } }
"#;

/// Checks with a `filter` (GX `row_condition`): the condition runs as SQL in PostgreSQL.
const FILTERED: &str = r#"
    expectations:
      - { type: expect_column_values_to_not_be_null, kwargs: { column: amount, row_condition: 'country == "DE"', condition_parser: pandas } }
      - { type: expect_column_values_to_be_between, kwargs: { column: amount, min_value: 0, max_value: 20, row_condition: 'id > 3', condition_parser: pandas } }
      - { type: expect_column_values_to_be_unique, kwargs: { column: id, row_condition: 'country == "US"', condition_parser: pandas } }
      - { type: expect_column_values_to_be_unique, kwargs: { column: id, row_condition: 'id > 4', condition_parser: pandas } }
      - { type: expect_compound_columns_to_be_unique, kwargs: { column_list: [country, flag], row_condition: 'id < 9', condition_parser: pandas } }
      - { type: expect_column_values_to_match_regex, kwargs: { column: email, regex: '^[a-z]@x\.com$', row_condition: 'col("id") > 2', condition_parser: great_expectations } }
      - { type: expect_column_median_to_be_between, kwargs: { column: amount, min_value: 0, max_value: 5, row_condition: 'id > 2', condition_parser: pandas } }
      - { type: expect_column_sum_to_be_between, kwargs: { column: id, min_value: 0, max_value: 20, row_condition: 'country == "GB"', condition_parser: pandas } }
      - { type: expect_column_distinct_values_to_be_in_set, kwargs: { column: country, value_set: [US, GB], row_condition: 'amount > 5', condition_parser: pandas } }
      - { type: expect_table_row_count_to_be_between, kwargs: { min_value: 1, max_value: 3, row_condition: 'flag == False', condition_parser: pandas } }
"#;

fn plan_text(schema: &str, body: &str) -> String {
    format!(
        "sources:\n  local: {{ path: data.csv }}\n  db: {{ postgres: {{ url_env: {URL_ENV}, table: '{schema}.t' }} }}\n\
         suites:\n  on_local:\n    source: local\n{}\n  on_db:\n    source: db\n{}\n",
        body, body
    )
}

async fn run(dir: &Path, plan: &str) -> Vec<TestResult> {
    let plan = tollgate::parse_plan(plan).unwrap_or_else(|d| panic!("plan: {d:?}"));
    tollgate::run_plan(&Engine::default(), &plan, dir, None)
        .await
        .tests
}

async fn load_fixture(client: &Client, schema: &str) {
    client
        .batch_execute(&format!(
            "CREATE TABLE \"{schema}\".t (id int8, amount float8, country text, email text, flag bool, day date)"
        ))
        .await
        .expect("create table");
    let body = FIXTURE.split_once('\n').map(|(_, b)| b).unwrap_or("");
    copy_csv(client, &format!("\"{schema}\".t"), body).await;
}

async fn copy_csv(client: &Client, table: &str, rows: &str) {
    use futures::SinkExt;
    let sink = client
        .copy_in::<_, bytes::Bytes>(&format!("COPY {table} FROM STDIN WITH (FORMAT csv)"))
        .await
        .expect("copy in");
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from(rows.to_string()))
        .await
        .expect("copy rows");
    sink.close().await.expect("copy finish");
}

fn sample_values(f: &Finding) -> Vec<String> {
    let mut v: Vec<String> = f
        .sample
        .iter()
        .map(|r| Json::Object(r.values.clone()).to_string())
        .collect();
    v.sort();
    v
}

/// The findings of both paths are the same: status, observed values, counts, and the sampled
/// rows (as a set: a table has no row order) when every failing row fits in the sample.
fn assert_same(local: &TestResult, db: &TestResult) {
    assert_eq!(local.error, None, "local run: {local:?}");
    assert_eq!(db.error, None, "PostgreSQL run: {db:?}");
    assert_eq!(local.rows, db.rows);
    assert_eq!(local.findings.len(), db.findings.len());
    for (l, d) in local.findings.iter().zip(&db.findings) {
        let what = format!("{} on {:?}", l.check, l.column);
        assert_eq!((&l.check, &l.column), (&d.check, &d.column));
        assert_eq!(l.status, d.status, "status of {what}: {l:?} / {d:?}");
        assert_eq!(d.error, None, "{what}: {d:?}");
        // CSV columns pinned by `type` are judged by conversion; a table's types are declared.
        if l.check == "type" {
            continue;
        }
        assert_eq!(l.observed, d.observed, "observed of {what}");
        assert_eq!(l.expected, d.expected, "expected of {what}");
        assert_eq!(l.element_count, d.element_count, "elements of {what}");
        assert_eq!(
            l.unexpected_count, d.unexpected_count,
            "unexpected of {what}"
        );
        assert_eq!(l.missing_count, d.missing_count, "missing of {what}");
        assert_eq!(l.sample.len(), d.sample.len(), "sample size of {what}");
        if l.unexpected_count.unwrap_or(0) as usize <= l.sample.len() {
            assert_eq!(sample_values(l), sample_values(d), "sample of {what}");
        }
    }
}

#[tokio::test]
async fn postgres_findings_equal_the_local_engine() {
    let client = client().await;
    let schema = new_schema(&client, "equal").await;
    load_fixture(&client, &schema).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("data.csv"), FIXTURE).expect("write csv");
    let results = run(dir.path(), &plan_text(&schema, SUITE)).await;
    drop_schema(&client, &schema).await;

    let (local, db) = (&results[0], &results[1]);
    assert_eq!(
        (local.name.as_str(), db.name.as_str()),
        ("on_local", "on_db")
    );
    assert_same(local, db);
    // The fixture fails on purpose: the comparison covers failing findings and samples.
    let failed = db
        .findings
        .iter()
        .filter(|f| f.status == Status::Failed)
        .count();
    assert!(failed >= 8, "{failed} failures: {db:#?}");
    let unique = db.findings.iter().find(|f| f.check == "unique");
    assert_eq!(unique.and_then(|f| f.unexpected_count), Some(2));
    // The source is named with its password masked.
    let shown = db.source.clone().unwrap_or_default();
    assert!(shown.contains(":***@") && shown.contains(".t"), "{shown}");
}

#[tokio::test]
async fn postgres_types_are_named_as_tollgate_types() {
    let client = client().await;
    let schema = new_schema(&client, "types").await;
    client
        .batch_execute(&format!(
            "CREATE TABLE \"{schema}\".t (a int4, b int8, c float8, d text, e varchar(3), f bool, g date, h timestamp, i int2, j float4, k int4)"
        ))
        .await
        .expect("create");
    let suite = r#"
    columns:
      a: { type: int32 }
      b: { type: int64 }
      c: { type: float64 }
      d: { type: string }
      e: { type: string }
      f: { type: bool }
      g: { type: date }
      h: { type: timestamp }
      i: { type: int16 }
      j: { type: float32 }
      k: { type: int64 }
"#;
    let plan = format!(
        "sources:\n  db: {{ postgres: {{ url_env: {URL_ENV}, table: '{schema}.t' }} }}\nsuites:\n  s:\n    source: db\n{suite}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(dir.path(), &plan).await;
    drop_schema(&client, &schema).await;
    let s = &results[0];
    assert_eq!(s.error, None);
    let observed: Vec<(String, Status)> = s
        .findings
        .iter()
        .map(|f| (f.observed.as_str().unwrap_or("").to_string(), f.status))
        .collect();
    let names = [
        "int32",
        "int64",
        "float64",
        "string",
        "string",
        "bool",
        "date",
        // Named as the local engine names a microsecond timestamp column.
        "timestamp[us]",
        "int16",
        "float32",
    ];
    for (i, n) in names.iter().enumerate() {
        assert_eq!(
            observed[i],
            (n.to_string(), Status::Passed),
            "{:?}",
            s.findings[i]
        );
    }
    // A declared type that differs fails, showing the column's type.
    assert_eq!(observed[10], ("int32".to_string(), Status::Failed));
    assert_eq!(observed.len(), names.len() + 1);
    assert_eq!(s.rows, Some(0));
}

#[tokio::test]
async fn checks_postgres_cannot_run_are_errors_not_skipped() {
    let client = client().await;
    let schema = new_schema(&client, "unsupported").await;
    load_fixture(&client, &schema).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("data.csv"), FIXTURE).expect("write csv");
    let results = run(dir.path(), &plan_text(&schema, UNSUPPORTED)).await;
    drop_schema(&client, &schema).await;
    let (local, db) = (&results[0], &results[1]);
    assert_eq!(local.findings.len(), 2);
    assert!(local.findings.iter().all(|f| f.status != Status::Error));
    assert_eq!(db.findings.len(), 2, "{db:#?}");
    assert_eq!(db.status, Status::Error);
    for f in &db.findings {
        assert_eq!(f.status, Status::Error);
        let msg = f.error.clone().unwrap_or_default();
        assert!(msg.contains("not supported on PostgreSQL"), "{msg}");
        assert!(msg.contains(&f.check), "{msg}");
    }
    // A table has no row order: said as the reason, not as "yet".
    let increasing = db.findings[0].error.clone().unwrap_or_default();
    assert!(increasing.contains("no order"), "{increasing}");
}

#[tokio::test]
async fn checks_over_columns_groups_and_user_sql_equal_the_local_engine() {
    let client = client().await;
    let schema = new_schema(&client, "more").await;
    load_fixture(&client, &schema).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("data.csv"), FIXTURE).expect("write csv");
    let results = run(dir.path(), &plan_text(&schema, MORE)).await;
    drop_schema(&client, &schema).await;
    let (local, db) = (&results[0], &results[1]);
    assert_same(local, db);
    assert_eq!(db.findings.len(), 20, "{db:#?}");
    // Some pass and some fail: both verdicts are compared.
    let failed = db
        .findings
        .iter()
        .filter(|f| f.status == Status::Failed)
        .count();
    assert!((5..db.findings.len()).contains(&failed), "{db:#?}");
}

#[tokio::test]
async fn filtered_checks_run_in_postgres_and_equal_the_local_engine() {
    let client = client().await;
    let schema = new_schema(&client, "filtered").await;
    load_fixture(&client, &schema).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("data.csv"), FIXTURE).expect("write csv");
    let results = run(dir.path(), &plan_text(&schema, FILTERED)).await;
    drop_schema(&client, &schema).await;
    let (local, db) = (&results[0], &results[1]);
    assert_same(local, db);
    assert_eq!(db.findings.len(), 10, "{db:#?}");
    let verdicts: Vec<(&str, Status, Option<u64>)> = db
        .findings
        .iter()
        .map(|f| (f.check.as_str(), f.status, f.unexpected_count))
        .collect();
    // Only the rows where the filter holds count: id 5 repeats, but not among US rows.
    assert_eq!(verdicts[0], ("not_null", Status::Failed, Some(1)));
    assert_eq!(verdicts[1], ("between", Status::Failed, Some(3)));
    assert_eq!(verdicts[2], ("unique", Status::Passed, Some(0)));
    assert_eq!(verdicts[3], ("unique", Status::Failed, Some(2)));
    assert_eq!(db.findings[9].observed, Json::from(3));
}

#[tokio::test]
async fn a_filter_postgres_rejects_is_an_error_of_that_check_only() {
    let client = client().await;
    let schema = new_schema(&client, "badfilter").await;
    load_fixture(&client, &schema).await;
    let suite = r#"
    expectations:
      - { type: expect_column_values_to_not_be_null, kwargs: { column: amount, row_condition: 'no_such_column > 1' } }
      - { type: expect_column_values_to_be_unique, kwargs: { column: id, row_condition: "1 = 1)) AS x; DROP TABLE t; --" } }
      - { type: expect_column_values_to_not_be_null, kwargs: { column: id } }
    columns:
      amount: { max: { at_most: 1000 } }
"#;
    let plan = format!(
        "sources:
  db: {{ postgres: {{ url_env: {URL_ENV}, table: '{schema}.t' }} }}
suites:
  s:
    source: db
{suite}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(dir.path(), &plan).await;
    let still_there: i64 = client
        .query_one(&format!("SELECT count(*) FROM \"{schema}\".t"), &[])
        .await
        .expect("the table is still there")
        .get(0);
    drop_schema(&client, &schema).await;
    assert_eq!(still_there, 10);
    let s = &results[0];
    assert_eq!(s.error, None, "{s:#?}");
    let statuses: Vec<Status> = s.findings.iter().map(|f| f.status).collect();
    assert_eq!(
        statuses,
        [Status::Error, Status::Error, Status::Passed, Status::Passed],
        "{s:#?}"
    );
    let msg = s.findings[0].error.clone().unwrap_or_default();
    assert!(
        msg.contains("`not_null`") && msg.contains("filter") && msg.contains("no_such_column"),
        "{msg}"
    );
    let msg = s.findings[1].error.clone().unwrap_or_default();
    assert!(msg.contains("`unique`") && msg.contains("filter"), "{msg}");
}

#[tokio::test]
async fn hostile_identifiers_and_literals_are_quoted() {
    let client = client().await;
    let schema = new_schema(&client, "hostile").await;
    client
        .batch_execute(&format!(
            "CREATE TABLE \"{schema}\".\"t\"\"x\" (\"a\"\"b\" int8, \"select\" text, \"x; drop table t\" float8)"
        ))
        .await
        .expect("create");
    copy_csv(
        &client,
        &format!("\"{schema}\".\"t\"\"x\""),
        "1,it's,1.5\n2,back\\slash,2.5\n2,\"x\"\" OR 1=1 --\",\n,plain,-1\n",
    )
    .await;
    let suite = r#"
    columns:
      'a"b': { not_null: true, unique: true, between: [0, 1] }
      select: { in_set: ["it's", 'back\slash', plain], matches: "^[a-z'\\\\]+$" }
      'x; drop table t': { not_null: true, between: [0, 3], mean: { between: [0, 3] } }
"#;
    let plan = format!(
        "sources:\n  db: {{ postgres: {{ url_env: {URL_ENV}, table: '{schema}.t\"x' }} }}\nsuites:\n  s:\n    source: db\n{suite}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(dir.path(), &plan).await;
    let still_there: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM \"{schema}\".\"t\"\"x\""),
            &[],
        )
        .await
        .expect("the table is still there")
        .get(0);
    drop_schema(&client, &schema).await;
    assert_eq!(still_there, 4);
    let s = &results[0];
    assert_eq!(s.error, None, "{s:#?}");
    let counts: Vec<(&str, Option<u64>)> = s
        .findings
        .iter()
        .map(|f| (f.check.as_str(), f.unexpected_count))
        .collect();
    assert_eq!(
        counts,
        [
            ("not_null", Some(1)),
            ("unique", Some(2)),
            ("between", Some(2)),
            ("in_set", Some(1)),
            ("matches", Some(1)),
            ("not_null", Some(1)),
            ("between", Some(1)),
            ("mean", None),
        ],
        "{s:#?}"
    );
    let in_set = &s.findings[3];
    assert_eq!(
        in_set.sample[0].values["select"],
        Json::from("x\" OR 1=1 --")
    );
    assert!(s.findings.iter().all(|f| f.error.is_none()), "{s:#?}");
}

#[tokio::test]
async fn the_password_never_appears_in_errors() {
    let real = url();
    let secret = "Wr0ng-S3cret-pw";
    // The real server and user, a wrong password.
    let rest = real
        .split_once('@')
        .map(|(_, r)| r)
        .unwrap_or("localhost/tollgate");
    let user = real
        .split_once("://")
        .and_then(|(_, r)| r.split([':', '@']).next())
        .unwrap_or("tollgate");
    let bad = format!("postgres://{user}:{secret}@{rest}");
    let source = tollgate::SourceDecl {
        name: "db".into(),
        pos: Default::default(),
        path: "public.t".into(),
        format: None,
        csv: Default::default(),
        postgres: Some(tollgate::core::PgSourceDecl {
            url_env: "UNUSED".into(),
            table: "public.t".into(),
        }),
    };
    let suite = tollgate::parse_suite("table: { row_count: { at_least: 1 } }", "s")
        .unwrap_or_else(|d| panic!("{d:?}"));
    let mut texts = Vec::new();
    for url in [
        bad.clone(),
        format!("postgres://{user}:{secret}@127.0.0.1:1/nodb"),
        format!("postgres://{user}:{secret}@{rest}?sslmode=bogus"),
    ] {
        let err = tollgate::data::pg::run_suites_with_url(&url, &source, &[&suite])
            .await
            .expect_err("cannot connect");
        texts.push(err.to_string());
    }
    // Through the facade: an unset variable is named, with how to set it.
    let plan = tollgate::parse_plan(
        "sources:\n  db: { postgres: { url_env: TOLLGATE_TEST_SURELY_UNSET, table: public.t } }\nsuites:\n  s:\n    source: db\n    table: { row_count: { at_least: 1 } }\n",
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    let report = tollgate::run_plan(&Engine::default(), &plan, Path::new("."), None).await;
    let unset = report.tests[0].error.clone().unwrap_or_default();
    assert!(unset.contains("TOLLGATE_TEST_SURELY_UNSET"), "{unset}");
    texts.push(unset);
    for t in &texts {
        assert!(!t.contains(secret), "the password leaked: {t}");
    }
    assert!(texts[0].contains(":***@"), "{}", texts[0]);
    assert!(texts[1].contains(":***@"), "{}", texts[1]);
}

#[tokio::test]
async fn samples_are_the_same_on_every_run_whatever_the_table_order() {
    let client = client().await;
    let schema = new_schema(&client, "order").await;
    client
        .batch_execute(&format!("CREATE TABLE \"{schema}\".t (id int8, v float8)"))
        .await
        .expect("create table");
    // 40 failing rows (v > 1) written in a scrambled order.
    let rows: String = (0..40)
        .map(|i| (i * 17) % 40)
        .map(|id| format!("{id},{}\n", 2.0 + id as f64))
        .collect();
    copy_csv(&client, &format!("\"{schema}\".t"), &rows).await;
    let plan = format!(
        "sources:\n  db: {{ postgres: {{ url_env: {URL_ENV}, table: '{schema}.t' }} }}\nsuites:\n  s:\n    source: db\n    id_columns: [id]\n    sample_size: 3\n    columns:\n      v: {{ between: [0, 1] }}\n"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(dir.path(), &plan).await;
    drop_schema(&client, &schema).await;
    let f = &results[0].findings[0];
    assert_eq!(f.unexpected_count, Some(40), "{f:#?}");
    let ids: Vec<Json> = f.sample.iter().map(|r| r.values["id"].clone()).collect();
    assert_eq!(
        ids,
        vec![Json::from(0), Json::from(1), Json::from(2)],
        "{f:#?}"
    );
}
