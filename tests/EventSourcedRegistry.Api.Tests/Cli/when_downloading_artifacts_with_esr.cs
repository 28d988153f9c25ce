using System.Net.Http.Headers;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Cli;

namespace EventSourcedRegistry.Api.Tests.Cli;

/// <summary>
/// Issue 19, item 6: <c>esr artifacts download</c> takes <c>name@alias</c> and <c>name/version</c> as well as a digest
/// (on main only a digest), resolves them through the API, and keeps the bytes only if they hash to the digest the
/// version was registered with.
/// </summary>
public sealed class when_downloading_artifacts_with_esr(AppFixture app) : ApiTest(app), IDisposable
{
    private readonly byte[] _bytes = TestContent.Bytes(19, 200_000);
    private string _sha256 = "";
    private readonly string _directory = Directory.CreateTempSubdirectory("esr-download-").FullName;

    private Task<EsrRunner.Run> Esr(params string[] args) => EsrRunner.Esr(Host.Client(), args);

    private async Task Given()
    {
        _sha256 = await Host.UploadOk(_bytes);
        await Host.RegisterModel("churn");
        var registered = await Host.Post("/api/v1/models/churn/versions", new { artifact = new { sha256 = _sha256 } });
        Assert.True(registered.Status == 201, $"{registered.Status} {registered.Body}");
        var alias = await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 });
        Assert.True(alias.Status == 200, $"{alias.Status} {alias.Body}");
    }

    private string Out(string name) => Path.Combine(_directory, name);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task an_alias_a_version_or_a_digest_names_the_artifact()
    {
        await Given();
        foreach (var (artifact, index) in new[] { "churn@champion", "churn/1", _sha256 }.Select((a, i) => (a, i)))
        {
            var path = Out($"model-{index}.bin");
            var run = await Esr("artifacts", "download", artifact, "--out", path, "-o", "json");
            Assert.True(run.ExitCode == 0, $"{artifact}: {run}");
            Assert.Equal(_bytes, await File.ReadAllBytesAsync(path));
            Assert.Equal(_sha256, run.Json.GetProperty("sha256").GetString());
            Assert.Equal(_bytes.Length, run.Json.GetProperty("sizeBytes").GetInt64());
            if (artifact != _sha256)
            {
                Assert.Equal("churn", run.Json.GetProperty("model").GetString());
                Assert.Equal(1, run.Json.GetProperty("version").GetInt32());
            }
        }

        var table = await Esr("artifacts", "download", "churn@champion", "--out", Out("table.bin"));
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("churn v1", table.Console);
        Assert.Contains(_sha256, table.Console);
    }

    [Fact]
    public async Task unknown_names_external_artifacts_and_malformed_names_are_refused_and_nothing_is_written()
    {
        await Given();
        await Host.RegisterVersion("churn", RegistryCalls.Sha256B);

        var external = await Esr("artifacts", "download", "churn/2", "--out", Out("external.bin"));
        Assert.Equal(ExitCodes.NotFound, external.ExitCode);
        Assert.Contains("external (s3://", external.Error);
        Assert.Contains(RegistryCalls.Sha256B, external.Error);

        Assert.Equal(ExitCodes.NotFound, (await Esr("artifacts", "download", "churn/9", "--out", Out("x.bin"))).ExitCode);
        Assert.Equal(ExitCodes.NotFound, (await Esr("artifacts", "download", "churn@nope", "--out", Out("x.bin"))).ExitCode);
        Assert.Equal(ExitCodes.NotFound, (await Esr("artifacts", "download", "nope@champion", "--out", Out("x.bin"))).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await Esr("artifacts", "download", "churn/v1", "--out", Out("x.bin"))).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await Esr("artifacts", "download", "@champion", "--out", Out("x.bin"))).ExitCode);
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public async Task bytes_changed_on_the_way_are_refused_and_an_earlier_copy_is_left_alone()
    {
        await Given();
        var path = Out("model.bin");
        await File.WriteAllTextAsync(path, "the copy from yesterday");
        using var tampered = new HttpClient(new FlipsAByteOfEveryDownload { InnerHandler = Host.Server.CreateHandler() })
        {
            BaseAddress = Host.Server.BaseAddress,
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("ApiKey", AppFixture.AdminKey) },
        };

        var run = await EsrRunner.Esr(tampered, ["artifacts", "download", "churn@champion", "--out", path]);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.Contains($"not to {_sha256}", run.Error);
        Assert.Equal("the copy from yesterday", await File.ReadAllTextAsync(path));
        Assert.Equal([path], Directory.GetFiles(_directory));
    }

    [Fact]
    public async Task a_corrupted_stored_artifact_is_refused_and_nothing_is_written()
    {
        await Given();
        var stored = Path.Combine(App.ArtifactsDirectory, "sha256", _sha256);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stored, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var corrupted = _bytes.ToArray();
        corrupted[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(stored, corrupted);

        var run = await Esr("artifacts", "download", "churn/1", "--out", Out("model.bin"));

        Assert.NotEqual(ExitCodes.Ok, run.ExitCode);
        Assert.Empty(Directory.GetFiles(_directory));
    }

    /// <summary>What a faulty proxy or cache between esr and the registry could do: the same length, one byte changed.</summary>
    private sealed class FlipsAByteOfEveryDownload : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method != HttpMethod.Get || !request.RequestUri!.AbsolutePath.StartsWith("/api/v1/artifacts/", StringComparison.Ordinal)
                || !response.IsSuccessStatusCode)
                return response;
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            bytes[bytes.Length / 2] ^= 0x01;
            var content = new ByteArrayContent(bytes);
            foreach (var header in response.Content.Headers) content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            response.Content = content;
            return response;
        }
    }
}
