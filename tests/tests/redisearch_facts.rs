//! What the query layer is built around, pinned with raw commands against the project's Redis
//! Stack: if a server changes one of these, this file says which, before a typed query
//! quietly answers wrong.

use redis_model::prelude::*;
use redis_model::Value;
use redis_model_tests::stack;

/// Keys a search returns (`NOCONTENT`, RESP3 or RESP2 shape), in order: its strings that
/// look like this file's keys.
async fn keys(client: &Client, c: Cmd) -> Result<Vec<String>> {
    let mut found = Vec::new();
    strings(&client.send::<Value>(c).await?, &mut found);
    found.retain(|s| s.contains(':'));
    Ok(found)
}

/// Every string in a reply, depth first.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::BulkString(b) | Value::SimpleString(b) => {
            out.push(String::from_utf8_lossy(b).into_owned())
        }
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            items.iter().for_each(|i| strings(i, out))
        }
        Value::Map(pairs) => pairs.iter().for_each(|(k, v)| {
            strings(k, out);
            strings(v, out);
        }),
        _ => {}
    }
}

/// A command written out with single spaces between its words.
fn raw(line: &str) -> Cmd {
    let mut words = line.split(' ');
    let mut c = cmd(words.next().expect("a command").to_owned());
    for w in words {
        c = c.arg(w);
    }
    c
}

fn search(index: &str, query: &str) -> Cmd {
    cmd("FT.SEARCH").arg(index).arg(query).arg("NOCONTENT")
}

#[tokio::test]
async fn tags_hash_trims_json_keeps_and_parameters_match_literally() {
    let (_server, client) = stack().await;
    for c in [
        raw("FT.CREATE h ON HASH PREFIX 1 h: SCHEMA t TAG SEPARATOR \u{1f}"),
        raw("FT.CREATE j ON JSON PREFIX 1 j: SCHEMA $.t AS t TAG"),
    ] {
        client.send::<()>(c).await.unwrap();
    }
    let values = [" lead", "\tx\n", "a\u{6}b", "émoji 🚀", "back\\-slash"];
    for (i, v) in values.iter().enumerate() {
        client
            .send::<()>(cmd("HSET").arg(format!("h:{i}")).arg("t").arg(*v))
            .await
            .unwrap();
        let doc = serde_json::json!({ "t": v }).to_string();
        client
            .send::<()>(cmd("JSON.SET").arg(format!("j:{i}")).arg("$").arg(doc))
            .await
            .unwrap();
    }
    let by_param = |index: &'static str, v: &str| {
        search(index, "@t:{$v}")
            .arg("PARAMS")
            .arg(2)
            .arg("v")
            .arg(v)
            .arg("DIALECT")
            .arg(2)
    };
    // Hash tags lose leading and trailing whitespace; JSON tags keep it.
    assert_eq!(keys(&client, by_param("h", "lead")).await.unwrap(), ["h:0"]);
    assert!(keys(&client, by_param("j", "lead"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        keys(&client, by_param("j", " lead")).await.unwrap(),
        ["j:0"]
    );
    assert_eq!(keys(&client, by_param("h", "x")).await.unwrap(), ["h:1"]);
    assert_eq!(
        keys(&client, by_param("j", "\tx\n")).await.unwrap(),
        ["j:1"]
    );
    // A control character matches as a parameter, and in no form inside the query text.
    assert_eq!(
        keys(&client, by_param("h", "a\u{6}b")).await.unwrap(),
        ["h:2"]
    );
    let literal = search("h", "@t:{a\\\u{6}b}").arg("DIALECT").arg(2);
    assert!(keys(&client, literal).await.unwrap().is_empty());
    // Non-ASCII is matched bare; escaped, it is not.
    assert_eq!(
        keys(&client, by_param("h", "émoji 🚀")).await.unwrap(),
        ["h:3"]
    );
    let escaped = search("h", "@t:{émoji\\ \\🚀}").arg("DIALECT").arg(2);
    assert!(keys(&client, escaped).await.unwrap().is_empty());
    // A parameter is unescaped like query text: a backslash before punctuation escapes it,
    // so one that is meant must be doubled.
    let single = by_param("h", "back\\-slash");
    assert!(keys(&client, single).await.unwrap().is_empty());
    assert_eq!(
        keys(&client, by_param("h", "back\\\\-slash"))
            .await
            .unwrap(),
        ["h:4"]
    );
}

#[tokio::test]
async fn the_result_cap_refuses_offsets_and_cuts_straddling_pages() {
    let (_server, client) = stack().await;
    client
        .send::<()>(raw("FT.CONFIG SET MAXSEARCHRESULTS 100"))
        .await
        .unwrap();
    client
        .send::<()>(raw(
            "FT.CREATE c ON HASH PREFIX 1 c: SCHEMA n NUMERIC SORTABLE",
        ))
        .await
        .unwrap();
    let mut p = pipe();
    for i in 0..150 {
        p = p.cmd(cmd("HSET").arg(format!("c:{i:03}")).arg("n").arg(i));
    }
    client.pipeline(p).await.unwrap();
    let page = |offset: u64, n: u64| {
        search("c", "*")
            .arg("LIMIT")
            .arg(offset)
            .arg(n)
            .arg("DIALECT")
            .arg(2)
    };
    assert_eq!(keys(&client, page(90, 20)).await.unwrap().len(), 10);
    let past = keys(&client, page(120, 10)).await.unwrap_err();
    assert!(past.to_string().contains("exceeds maximum"), "{past}");
    // The total is not capped.
    let total: Value = client
        .send(raw("FT.SEARCH c * LIMIT 0 0 DIALECT 2"))
        .await
        .unwrap();
    assert!(format!("{total:?}").contains("150"), "{total:?}");
    // Nor is an aggregation's sort, read through a cursor.
    let rows: Value = client
        .send(raw("FT.AGGREGATE c * LOAD 1 @__key SORTBY 2 @n DESC MAX 150 WITHCURSOR COUNT 150 DIALECT 2"))
        .await
        .unwrap();
    let mut found = Vec::new();
    strings(&rows, &mut found);
    found.retain(|s| s.starts_with("c:"));
    assert_eq!(found.len(), 150);
    assert_eq!(found[0], "c:149");
}

#[tokio::test]
async fn json_sortables_stay_unnormalised_and_lower_folds_ascii_only() {
    let (_server, client) = stack().await;
    client
        .send::<()>(raw(
            "FT.CREATE s ON JSON PREFIX 1 s: SCHEMA $.name AS name TEXT SORTABLE",
        ))
        .await
        .unwrap();
    let info: Value = client.send(raw("FT.INFO s")).await.unwrap();
    assert!(format!("{info:?}").contains("UNF"), "{info:?}");
    for (i, name) in ["apple", "Banana", "Éa"].iter().enumerate() {
        let doc = serde_json::json!({ "name": name }).to_string();
        client
            .send::<()>(cmd("JSON.SET").arg(format!("s:{i}")).arg("$").arg(doc))
            .await
            .unwrap();
    }
    client
        .send::<()>(raw("JSON.SET s:3 $").arg("{}"))
        .await
        .unwrap();
    let by_name = search("s", "*")
        .arg("SORTBY")
        .arg("name")
        .arg("ASC")
        .arg("DIALECT")
        .arg(2);
    assert_eq!(
        keys(&client, by_name).await.unwrap(),
        ["s:1", "s:0", "s:2", "s:3"]
    );
    let lowered: Value = client
        .send(raw(
            "FT.AGGREGATE s * LOAD 1 @name FILTER exists(@name) APPLY lower(@name) AS l DIALECT 2",
        ))
        .await
        .unwrap();
    let mut lowered_strings = Vec::new();
    strings(&lowered, &mut lowered_strings);
    assert!(
        lowered_strings.iter().any(|s| s == "banana"),
        "{lowered_strings:?}"
    );
    assert!(
        lowered_strings.iter().all(|s| s != "éa"),
        "{lowered_strings:?}"
    );
    assert_eq!(
        lowered_strings.iter().filter(|s| *s == "Éa").count(),
        2,
        "{lowered_strings:?}"
    );
    // `lower` of a missing value fails the whole aggregation.
    let missing = client
        .send::<Value>(raw(
            "FT.AGGREGATE s * LOAD 1 @__key APPLY lower(@name) AS l SORTBY 2 @l ASC DIALECT 2",
        ))
        .await;
    assert!(missing.is_err(), "{missing:?}");
}

#[tokio::test]
async fn stop_words_short_prefixes_and_json_number_parsing() {
    let (_server, client) = stack().await;
    client
        .send::<()>(raw("FT.CREATE t ON HASH PREFIX 1 t: SCHEMA x TEXT"))
        .await
        .unwrap();
    client
        .send::<()>(raw("HSET t:1 x").arg("to be or not to be, grace"))
        .await
        .unwrap();
    let q = |query: &str| search("t", query).arg("DIALECT").arg(2);
    assert!(keys(&client, q("@x:(to be)")).await.unwrap().is_empty());
    assert!(keys(&client, q("@x:\"to be\"")).await.unwrap().is_empty());
    // A stop word inside a conjunction is dropped, not matched against.
    assert_eq!(keys(&client, q("@x:(to grace)")).await.unwrap(), ["t:1"]);
    assert!(keys(&client, q("@x:g*")).await.unwrap().is_empty());
    assert_eq!(keys(&client, q("@x:gr*")).await.unwrap(), ["t:1"]);
    // RedisJSON reads some number literals one unit in the last place off, so the text a
    // query sends is not always the number the index holds.
    client
        .send::<()>(raw("JSON.SET n:1 $").arg(r#"{"p":1e-45}"#))
        .await
        .unwrap();
    let stored: String = client.send(raw("JSON.GET n:1")).await.unwrap();
    assert_ne!(stored, r#"{"p":1e-45}"#);
}
