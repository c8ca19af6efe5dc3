//! hwctl-http on loopback: one GET over a pooled keep-alive connection (no auth,
//! basic, digest with a known nonce), and a sweep of 48 concurrent GETs through a
//! concurrency limit of 8 (one chassis manager's blades).
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_http::testing::{Reply, TestServer};
use hwctl_http::{Auth, EndpointConfig, HttpClient, RetryPolicy};

fn client(server: &TestServer, auth: Auth, limit: usize) -> HttpClient {
    HttpClient::new(
        EndpointConfig::builder(server.base_url())
            .auth(auth)
            .max_concurrency(limit)
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(async {
        TestServer::start(|req| match req.header("authorization") {
            Some(a) if a.starts_with("Digest ") || a.starts_with("Basic ") => {
                Reply::ok("<BladeState>ON</BladeState>")
            }
            Some(_) => Reply::status(400),
            None if req.target.starts_with("/auth") => Reply::status(401).header(
                "www-authenticate",
                r#"Digest realm="bench", nonce="n0", qop="auth", algorithm=MD5"#,
            ),
            None => Reply::ok("<BladeState>ON</BladeState>"),
        })
        .await
        .unwrap()
    });
    let _enter = rt.enter();
    let cases = [
        ("http/get_keepalive", Auth::None, "/GetBladeState?bladeid=1"),
        (
            "http/get_basic",
            Auth::basic("admin", "pw"),
            "/auth/GetBladeState?bladeid=1",
        ),
        (
            "http/get_digest_known_nonce",
            Auth::digest("admin", "pw"),
            "/auth/GetBladeState?bladeid=1",
        ),
    ];
    for (name, auth, path) in cases {
        let cl = client(&server, auth, 8);
        rt.block_on(cl.get(path)).unwrap(); // warm the pool and the nonce
        c.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let cl = cl.clone();
                async move { cl.get(path).await.unwrap() }
            })
        });
    }
    let cl = client(&server, Auth::None, 8);
    c.bench_function("http/48_blades_limit_8", |b| {
        b.to_async(&rt).iter(|| {
            let cl = cl.clone();
            async move {
                let mut tasks = Vec::with_capacity(48);
                for blade in 1..=48 {
                    let cl = cl.clone();
                    tasks.push(tokio::spawn(async move {
                        cl.get(format!("/GetBladeState?bladeid={blade}")).await
                    }));
                }
                for t in tasks {
                    t.await.unwrap().unwrap();
                }
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
