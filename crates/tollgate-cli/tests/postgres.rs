//! `tollgate validate postgres://...?table=schema.table --suite S` against a real server: exit
//! codes, the password never shown, `PGPASSWORD`, a missing `table`. Needs
//! `TOLLGATE_TEST_PG_URL` (`bash .ci/run` starts a server and sets it); without it these tests
//! fail, saying how.

mod common;

use tokio_postgres::{Client, NoTls};

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

/// The test URL split as (user, password, `host[:port]/db`).
fn parts() -> (String, String, String) {
    let url = url();
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    let (user_info, host) = rest.rsplit_once('@').unwrap_or(("", rest));
    let (user, password) = user_info.split_once(':').unwrap_or((user_info, ""));
    (user.into(), password.into(), host.into())
}

fn tollgate(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = common::bin();
    cmd.args(args).env_remove("PGPASSWORD");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    common::run(&mut cmd)
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

/// A table `SCHEMA.orders` in a schema of the test's own (dropped by the caller).
async fn orders(client: &Client, test: &str) -> String {
    let schema = format!("tg_cli_{test}_{}", std::process::id());
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE; CREATE SCHEMA \"{schema}\";
             CREATE TABLE \"{schema}\".orders (id int8, amount float8, country text);
             INSERT INTO \"{schema}\".orders VALUES
               (1, 10.5, 'US'), (2, 20.0, 'GB'), (3, NULL, 'DE'), (4, -5.0, 'FR'), (5, 7.25, 'US')"
        ))
        .await
        .expect("create the table");
    schema
}

async fn drop_schema(client: &Client, schema: &str) {
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .expect("drop schema");
}

fn write_suite(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write suite");
    path.to_string_lossy().into_owned()
}

const SUITE: &str = "\
id_columns: [id]
table: { row_count: 5 }
columns:
  id: { not_null: true, unique: true }
  amount: { between: [0, 100] }
  country: { in_set: [US, GB, DE, FR] }
";

#[tokio::test]
async fn validate_runs_a_suite_inside_postgres() {
    let client = client().await;
    let schema = orders(&client, "validate").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(dir.path(), "orders.yaml", SUITE);
    let report = dir.path().join("report.json");
    let data = format!("{}?sslmode=disable&table={schema}.orders", url());
    let (code, out, err) = tollgate(
        &[
            "validate",
            &data,
            "--suite",
            &suite,
            "-o",
            &report.to_string_lossy(),
        ],
        &[],
    );
    drop_schema(&client, &schema).await;
    // `amount` has a negative value: a failed check, exit 1.
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("between"), "{out}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let test = &doc["tests"][0];
    let source = test["source"].as_str().unwrap_or_default();
    assert!(
        source.contains(":***@") && source.ends_with(&format!("table {schema}.orders")),
        "{source}"
    );
    assert_eq!(test["rows"], serde_json::json!(5), "{test:#}");
    let failed: Vec<&str> = test["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["status"] == "failed")
        .filter_map(|f| f["check"].as_str())
        .collect();
    assert_eq!(failed, ["between"], "{test:#}");
    let (_, password, _) = parts();
    let shown = format!(":{password}@");
    for text in [
        &out,
        &err,
        &std::fs::read_to_string(&report).unwrap_or_default(),
    ] {
        assert!(!text.contains(&shown), "the password leaked: {text}");
    }
}

#[tokio::test]
async fn the_password_comes_from_pgpassword() {
    let client = client().await;
    let schema = orders(&client, "pgpassword").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(dir.path(), "orders.yaml", "table: { row_count: 5 }\n");
    let (user, password, host) = parts();
    let data = format!("postgres://{user}@{host}?table={schema}.orders");
    let with = tollgate(
        &["validate", &data, "--suite", &suite],
        &[("PGPASSWORD", &password)],
    );
    let wrong = tollgate(
        &["validate", &data, "--suite", &suite],
        &[("PGPASSWORD", "Wr0ng-S3cret")],
    );
    drop_schema(&client, &schema).await;
    assert_eq!(with.0, 0, "stdout:\n{}\nstderr:\n{}", with.1, with.2);
    assert!(with.1.contains("PASS"), "{}", with.1);
    // A wrong password: the suite could not run (exit 2), and the password is not shown.
    assert_eq!(wrong.0, 2, "stdout:\n{}\nstderr:\n{}", wrong.1, wrong.2);
    assert!(
        wrong.1.contains("password authentication failed"),
        "{}",
        wrong.1
    );
    assert!(
        !wrong.1.contains("Wr0ng-S3cret") && !wrong.2.contains("Wr0ng-S3cret"),
        "the password leaked:\n{}\n{}",
        wrong.1,
        wrong.2
    );
}

#[test]
fn a_url_without_a_table_exits_2_showing_the_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(dir.path(), "s.yaml", "table: { row_count: 1 }\n");
    let (code, out, err) = tollgate(
        &[
            "validate",
            "postgres://someone:S3cret-pw@localhost:5432/db?sslmode=disable",
            "--suite",
            &suite,
        ],
        &[],
    );
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("?table=schema.table") && err.contains("postgres://user"),
        "{err}"
    );
    assert!(err.contains("someone:***@localhost"), "{err}");
    assert!(
        !err.contains("S3cret-pw") && !out.contains("S3cret-pw"),
        "{err}"
    );
    // File options do not apply to a table.
    let (code, _, err) = tollgate(
        &[
            "validate",
            "postgres://u@h/db?table=t",
            "--suite",
            &suite,
            "--delimiter",
            ";",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--delimiter"), "{err}");
}

#[tokio::test]
async fn a_gx_suite_with_row_conditions_runs_its_filters_in_postgres() {
    let client = client().await;
    let schema = orders(&client, "gx").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(
        dir.path(),
        "gx.json",
        r#"{"expectation_suite_name": "orders", "expectations": [
          {"expectation_type": "expect_column_values_to_be_between",
           "kwargs": {"column": "amount", "min_value": 0, "row_condition": "country == \"US\"", "condition_parser": "pandas"}},
          {"expectation_type": "expect_column_values_to_not_be_null",
           "kwargs": {"column": "amount", "row_condition": "id < 3", "condition_parser": "pandas"}}
        ]}"#,
    );
    let data = format!("{}?table={schema}.orders", url());
    let (code, out, err) = tollgate(
        &["validate", &data, "--suite", &suite, "--format", "json"],
        &[],
    );
    drop_schema(&client, &schema).await;
    // Unfiltered, both would fail (-5.0 is negative, id 3 has no amount).
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let counts: Vec<(serde_json::Value, serde_json::Value)> = doc["tests"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (f["element_count"].clone(), f["unexpected_count"].clone()))
        .collect();
    assert_eq!(
        counts,
        [
            (serde_json::json!(2), serde_json::json!(0)),
            (serde_json::json!(2), serde_json::json!(0))
        ],
        "{doc:#}"
    );
}
