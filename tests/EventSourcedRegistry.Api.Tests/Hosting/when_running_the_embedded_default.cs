using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Hosting;

/// <summary>
/// The README's run command, for real: the built API started as its own process with no connection string and no
/// bootstrap key, so it starts the embedded PostgreSQL in a data directory and prints a generated admin key once;
/// stopped with SIGTERM and started again.
/// </summary>
public sealed class when_running_the_embedded_default : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "esr-default-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    // The embedded default: no connection string at all (the test host's own one must not leak in).
    private Task<ApiProcess> Start() => ApiProcess.Start(new Dictionary<string, string?>
    {
        ["ConnectionStrings__Registry"] = null,
        ["Registry__DataDirectory"] = _dataDirectory,
        [ApiProcess.BootstrapKeyVariable] = null,
    // The first command compiles the endpoints' generated code (Roslyn), which on a shared, overloaded machine has been
    // seen to take over 30 s; this test is about durability across a restart, not latency.
    }, TimeSpan.FromMinutes(2));

    [Fact]
    public async Task it_gets_ready_and_keeps_a_registered_model_across_a_restart()
    {
        var sha = new string('c', 64);
        string key;
        await using (var first = await Start())
        {
            key = await first.PrintedKey() ?? throw new Xunit.Sdk.XunitException($"the first start prints a bootstrap admin key:\n{first.Output}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await first.Client.PostAsJsonAsync("/api/v1/models", new { name = "no-key" })).StatusCode);
            first.Client.DefaultRequestHeaders.Authorization = new("ApiKey", key);
            var registered = await first.Client.PostAsJsonAsync("/api/v1/models", new { name = "kept-across-restarts" });
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            var version = await first.Client.PostAsJsonAsync("/api/v1/models/kept-across-restarts/versions",
                new { artifact = new { uri = "file:///models/a.bin", sha256 = sha } });
            Assert.Equal(HttpStatusCode.Created, version.StatusCode);
            await first.Stop();
            Assert.False(File.Exists(Path.Combine(_dataDirectory, "postgres", "postmaster.pid")),
                "stopping the app stops its PostgreSQL");
        }

        await using var second = await Start();
        Assert.Null(await second.PrintedKey());
        second.Client.DefaultRequestHeaders.Authorization = new("ApiKey", key);
        var model = await second.Client.GetFromJsonAsync<JsonObject>("/api/v1/models/kept-across-restarts");
        Assert.Equal(1, model!["latestVersion"]!.GetValue<int>());
        var stored = await second.Client.GetFromJsonAsync<JsonObject>("/api/v1/models/kept-across-restarts/versions/1");
        Assert.Equal(sha, stored!["artifact"]!["sha256"]!.GetValue<string>());
    }
}
