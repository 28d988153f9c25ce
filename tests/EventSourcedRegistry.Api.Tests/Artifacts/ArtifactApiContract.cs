using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Alba;
using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>The artifacts API end to end, run once on each backend.</summary>
[Collection(AppCollection.Name)]
public abstract partial class ArtifactApiContract(AppFixture app, Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    protected AppFixture App { get; } = app;
    protected abstract IAlbaHost Host { get; }
    protected IDocumentStore Store => App.Store;

    /// <summary>Every name the backend holds, relative to the store's root.</summary>
    protected abstract Task<List<string>> StoredNames();

    /// <summary>Replaces the stored bytes behind the store's back.</summary>
    protected abstract Task Corrupt(string sha256, byte[] bytes);

    protected abstract Task StartAsync();

    public async Task InitializeAsync()
    {
        await StartAsync();
        await App.ResetAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task an_upload_answers_201_with_digest_size_and_uri_and_again_200_without_a_second_copy()
    {
        var bytes = TestContent.Bytes(21, 123_456);
        var sha256 = TestContent.Sha256(bytes);

        var first = await Host.Upload(bytes);
        var second = await Host.Upload(bytes);

        Assert.Equal(201, first.Status);
        Assert.Equal(sha256, first.Body!["sha256"]!.GetValue<string>());
        Assert.Equal(bytes.Length, first.Body["sizeBytes"]!.GetValue<long>());
        Assert.Equal($"/api/v1/artifacts/{sha256}", first.Body["uri"]!.GetValue<string>());
        Assert.Equal($"/api/v1/artifacts/{sha256}", first.Raw.Headers.Location?.ToString());
        Assert.Equal(200, second.Status);
        Assert.Equal(sha256, second.Body!["sha256"]!.GetValue<string>());
        Assert.Equal([$"sha256/{sha256}"], await StoredNames());
    }

    [Fact]
    public async Task a_declared_digest_that_matches_is_accepted_in_either_case()
    {
        var bytes = TestContent.Bytes(22, 5000);

        var response = await Host.Upload(bytes, TestContent.Sha256(bytes).ToUpperInvariant());

        Assert.Equal(201, response.Status);
        Assert.Equal(TestContent.Sha256(bytes), response.Body!["sha256"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_wrong_declared_digest_is_422_and_nothing_is_stored()
    {
        var bytes = TestContent.Bytes(23, 70_000);
        var wrong = TestContent.Sha256(TestContent.Bytes(24, 10));

        var response = await Host.Upload(bytes, wrong);

        Assert.Equal(422, response.Status);
        Assert.Contains(wrong, response.Body!["detail"]!.GetValue<string>());
        Assert.Contains(TestContent.Sha256(bytes), response.Body!["detail"]!.GetValue<string>());
        Assert.Empty(await StoredNames());
        Assert.Equal(404, (await Host.Get($"/api/v1/artifacts/{TestContent.Sha256(bytes)}")).Status);
    }

    [Fact]
    public async Task a_malformed_declared_digest_is_400()
    {
        var response = await Host.Upload([1, 2, 3], "not-a-digest");

        Assert.Equal(400, response.Status);
        Assert.NotNull(response.Body!["errors"]!["X-Content-SHA256"]);
        Assert.Empty(await StoredNames());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task an_upload_past_the_size_limit_is_413_and_nothing_is_stored(bool chunked)
    {
        var settings = Host.Services.GetRequiredService<ArtifactSettings>();
        var limit = settings.MaxUploadBytes;
        settings.MaxUploadBytes = 100_000;
        try
        {
            var response = await Host.Upload(new MemoryStream(TestContent.Bytes(25, 300_000)), chunked: chunked);

            Assert.Equal(413, response.Status);
            Assert.Contains("100000 bytes", response.Body!["detail"]!.GetValue<string>());
            Assert.Empty(await StoredNames());
        }
        finally
        {
            settings.MaxUploadBytes = limit;
        }
    }

    [Fact]
    public async Task a_download_returns_the_bytes_with_the_digest_as_etag()
    {
        var bytes = TestContent.Bytes(26, 700_000);
        var sha256 = await Host.UploadOk(bytes);

        using var response = await Host.Download($"/api/v1/artifacts/{sha256}");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal($"\"{sha256}\"", response.Headers.ETag?.Tag);
        Assert.Equal("bytes", string.Join(",", response.Headers.AcceptRanges));
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task head_answers_size_and_etag_without_a_body()
    {
        var bytes = TestContent.Bytes(27, 4321);
        var sha256 = await Host.UploadOk(bytes);

        using var response = await Host.Download($"/api/v1/artifacts/{sha256}", method: HttpMethod.Head);
        using var unknown = await Host.Download($"/api/v1/artifacts/{new string('0', 64)}", method: HttpMethod.Head);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(4321, response.Content.Headers.ContentLength);
        Assert.Equal($"\"{sha256}\"", response.Headers.ETag?.Tag);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(404, (int)unknown.StatusCode);
    }

    [Fact]
    public async Task a_matching_if_none_match_is_304()
    {
        var sha256 = await Host.UploadOk(TestContent.Bytes(28, 100));

        using var response = await Host.Download($"/api/v1/artifacts/{sha256}",
            r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha256}\"")));

        Assert.Equal(304, (int)response.StatusCode);
    }

    [Theory]
    [InlineData("bytes=10-19", 10, 10)]
    [InlineData("bytes=99990-", 99_990, 10)]
    [InlineData("bytes=-25", 99_975, 25)]
    [InlineData("bytes=99990-200000", 99_990, 10)]
    [InlineData("bytes=0-0", 0, 1)]
    public async Task a_single_range_is_206_with_those_bytes(string range, int from, int length)
    {
        var bytes = TestContent.Bytes(29, 100_000);
        var sha256 = await Host.UploadOk(bytes);

        using var response = await Host.Download($"/api/v1/artifacts/{sha256}", r => r.Headers.TryAddWithoutValidation("Range", range));

        Assert.Equal(206, (int)response.StatusCode);
        Assert.Equal($"bytes {from}-{from + length - 1}/100000", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(bytes[from..(from + length)], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task a_range_past_the_end_is_416()
    {
        var sha256 = await Host.UploadOk(TestContent.Bytes(30, 1000));

        using var response = await Host.Download($"/api/v1/artifacts/{sha256}", r => r.Headers.TryAddWithoutValidation("Range", "bytes=1000-"));

        Assert.Equal(416, (int)response.StatusCode);
        Assert.Equal("bytes */1000", response.Content.Headers.ContentRange?.ToString());
    }

    [Theory]
    [InlineData("bytes=0-9,20-29", null)]
    [InlineData("bytes=0-9", "\"0000\"")]
    public async Task several_ranges_or_a_stale_if_range_get_the_whole_artifact(string range, string? ifRange)
    {
        var bytes = TestContent.Bytes(31, 1000);
        var sha256 = await Host.UploadOk(bytes);

        using var response = await Host.Download($"/api/v1/artifacts/{sha256}", r =>
        {
            r.Headers.TryAddWithoutValidation("Range", range);
            if (ifRange is not null) r.Headers.TryAddWithoutValidation("If-Range", ifRange);
        });

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task verify_rehashes_the_stored_bytes()
    {
        var bytes = TestContent.Bytes(32, 10_000);
        var sha256 = await Host.UploadOk(bytes);

        var intact = await Host.Get($"/api/v1/artifacts/{sha256}/verify");
        await Corrupt(sha256, TestContent.Bytes(33, 10_000));
        var corrupted = await Host.Get($"/api/v1/artifacts/{sha256}/verify");

        Assert.Equal(200, intact.Status);
        Assert.True(intact.Body!["verified"]!.GetValue<bool>());
        Assert.Equal(10_000, intact.Body["sizeBytes"]!.GetValue<long>());
        Assert.Equal(200, corrupted.Status);
        Assert.False(corrupted.Body!["verified"]!.GetValue<bool>());
        Assert.Equal(TestContent.Sha256(TestContent.Bytes(33, 10_000)), corrupted.Body["actualSha256"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_small_corrupted_artifact_is_refused_with_500_before_any_byte_is_sent()
    {
        var bytes = TestContent.Bytes(34, 10_000);
        var sha256 = await Host.UploadOk(bytes);
        var rotten = bytes.ToArray();
        rotten[^1] ^= 0xff;
        await Corrupt(sha256, rotten);

        var response = await Host.Get($"/api/v1/artifacts/{sha256}");

        Assert.Equal(500, response.Status);
        Assert.Contains("do not match", response.Body!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_large_corrupted_artifact_aborts_the_download_short_of_its_length()
    {
        var bytes = TestContent.Bytes(35, 3_000_000);
        var sha256 = await Host.UploadOk(bytes);
        var rotten = bytes.ToArray();
        rotten[^1] ^= 0xff;
        await Corrupt(sha256, rotten);

        using var response = await Host.Download($"/api/v1/artifacts/{sha256}");
        var received = 0L;
        var failed = false;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[65536];
            int n;
            while ((n = await body.ReadAsync(buffer)) > 0) received += n;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException)
        {
            failed = true;
        }

        Assert.True(failed || (int)response.StatusCode >= 500, $"a corrupted artifact was served: {(int)response.StatusCode}, {received} bytes");
        Assert.True(received < bytes.Length, $"all {received} bytes of a corrupted artifact arrived");
    }

    [Theory]
    [InlineData("zz")]
    [InlineData("0123456789abcdef")]
    [InlineData("sha256-0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task a_malformed_digest_in_the_route_is_400(string digest)
    {
        Assert.Equal(400, (await Host.Get($"/api/v1/artifacts/{digest}")).Status);
        Assert.Equal(400, (await Host.Get($"/api/v1/artifacts/{digest}/verify")).Status);
        using var head = await Host.Download($"/api/v1/artifacts/{digest}", method: HttpMethod.Head);
        Assert.Equal(400, (int)head.StatusCode);
    }

    [Fact]
    public async Task an_unknown_digest_is_404()
    {
        var unknown = new string('e', 64);

        Assert.Equal(404, (await Host.Get($"/api/v1/artifacts/{unknown}")).Status);
        Assert.Equal(404, (await Host.Get($"/api/v1/artifacts/{unknown}/verify")).Status);
    }

    [Fact]
    public async Task traversal_payloads_in_the_route_never_reach_storage()
    {
        var sha256 = await Host.UploadOk(TestContent.Bytes(36, 1000));

        foreach (var payload in TestContent.TraversalPayloads)
        {
            foreach (var path in new[] { $"/api/v1/artifacts/{payload}", $"/api/v1/artifacts/{payload}/verify" })
            {
                foreach (var method in new[] { "GET", "HEAD", "POST", "DELETE" })
                {
                    // Raw paths, as a hostile client would send them: no client-side normalisation or escaping.
                    if (await RawRequest(method, path) is not { } result) continue;
                    var status = result.Context.Response.StatusCode;
                    Assert.True(status is 400 or 404 or 405, $"{method} {path} answered {status}");
                    Assert.DoesNotContain("root:", await result.ReadAsTextAsync());
                }
            }

            // And through a real client, which escapes and normalises as clients do.
            try
            {
                var response = await Host.Get($"/api/v1/artifacts/{payload}");
                Assert.True(response.Status is 400 or 404, $"GET {payload} answered {response.Status}");
            }
            catch (Exception e) when (e is UriFormatException || IsRefusedPath(e))
            {
                // Refused before any endpoint ran.
            }
        }

        Assert.Equal([$"sha256/{sha256}"], await StoredNames());
    }

    /// <summary>The server's URL decoding refuses a path with NUL outright, before routing: it reaches nothing.</summary>
    private static bool IsRefusedPath(Exception e) =>
        e is InvalidOperationException { Message: "The path contains null characters." } || e.InnerException is { } inner && IsRefusedPath(inner);

    private async Task<IScenarioResult?> RawRequest(string method, string path)
    {
        try
        {
            return await Host.Scenario(x =>
            {
                x.ConfigureHttpContext(http =>
                {
                    http.Request.Method = method;
                    http.Request.Path = path;
                    http.Request.Headers.Authorization = $"ApiKey {AppFixture.AdminKey}";
                });
                x.IgnoreStatusCode();
            });
        }
        catch (Exception e) when (IsRefusedPath(e))
        {
            return null;
        }
    }

    [Fact]
    public async Task a_file_name_is_metadata_only_whatever_it_says()
    {
        var bytes = TestContent.Bytes(37, 2048);
        var sha256 = TestContent.Sha256(bytes);

        foreach (var payload in TestContent.TraversalPayloads)
        {
            foreach (var header in new[] { $"attachment; filename=\"{payload.Replace("\"", "")}\"", $"attachment; filename*=UTF-8''{Uri.EscapeDataString(payload)}" })
            {
                RegistryCalls.Response response;
                try
                {
                    response = await Host.Upload(bytes, headers: new Dictionary<string, string> { ["Content-Disposition"] = header });
                }
                catch (Exception e) when (e is FormatException or HttpRequestException or InvalidOperationException)
                {
                    continue; // the client would not send this header
                }
                Assert.True(response.Status is 200 or 201, $"{header}: {response.Status} {response.Body}");
                Assert.Equal(sha256, response.Body!["sha256"]!.GetValue<string>());
                if (response.Body["fileName"]?.GetValue<string>() is { } echoed) Assert.DoesNotContain(echoed, char.IsControl);
            }
        }

        var names = await StoredNames();
        Assert.Equal([$"sha256/{sha256}"], names);
        Assert.All(names, n => Assert.Matches(StorageName(), n));
    }

    [Fact]
    public async Task a_version_registered_with_an_uploaded_artifact_gets_a_download_url()
    {
        var bytes = TestContent.Bytes(38, 20_000);
        var sha256 = await Host.UploadOk(bytes);
        await Host.RegisterModel("churn");

        var registered = await Host.Post("/api/v1/models/churn/versions", new { artifact = new { sha256 = sha256.ToUpperInvariant() } });
        var read = await Host.Get("/api/v1/models/churn/versions/1");

        Assert.Equal(201, registered.Status);
        foreach (var view in new[] { registered.Body!, read.Body! })
        {
            Assert.Equal(sha256, view["artifact"]!["sha256"]!.GetValue<string>());
            Assert.Equal(bytes.Length, view["artifact"]!["sizeBytes"]!.GetValue<long>());
            Assert.Null(view["artifact"]!["uri"]);
            Assert.Equal($"/api/v1/artifacts/{sha256}", view["downloadUrl"]!.GetValue<string>());
        }
        using var download = await Host.Download(read.Body!["downloadUrl"]!.GetValue<string>());
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task an_external_artifact_keeps_its_uri_and_gets_no_download_url()
    {
        await Host.RegisterModel("churn");

        var registered = await Host.Post("/api/v1/models/churn/versions",
            new { artifact = new { uri = "s3://models/churn/1.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 10 } });

        Assert.Equal(201, registered.Status);
        Assert.Equal("s3://models/churn/1.onnx", registered.Body!["artifact"]!["uri"]!.GetValue<string>());
        Assert.Null(registered.Body["downloadUrl"]);
    }

    [Fact]
    public async Task a_version_with_an_unknown_uploaded_digest_is_422_and_appends_nothing()
    {
        await Host.RegisterModel("churn");

        var response = await Host.Post("/api/v1/models/churn/versions", new { artifact = new { sha256 = RegistryCalls.Sha256B } });

        Assert.Equal(422, response.Status);
        Assert.Contains(RegistryCalls.Sha256B, response.Body!["detail"]!.GetValue<string>());
        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_version_whose_declared_size_differs_from_the_stored_one_is_422()
    {
        var sha256 = await Host.UploadOk(TestContent.Bytes(39, 500));
        await Host.RegisterModel("churn");

        var response = await Host.Post("/api/v1/models/churn/versions", new { artifact = new { sha256, sizeBytes = 501 } });

        Assert.Equal(422, response.Status);
        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task orphans_are_listed_and_deleted_only_past_the_grace_period()
    {
        var used = await Host.UploadOk(TestContent.Bytes(40, 300));
        var orphan = await Host.UploadOk(TestContent.Bytes(41, 700));
        await Host.RegisterModel("churn");
        Assert.Equal(201, (await Host.Post("/api/v1/models/churn/versions", new { artifact = new { sha256 = used } })).Status);

        var listed = await Host.Get("/api/v1/admin/artifacts/orphans");
        var withinGrace = await Host.Send(HttpMethod.Delete, "/api/v1/admin/artifacts/orphans");
        var stillListed = await Host.Get("/api/v1/admin/artifacts/orphans");
        var swept = await Host.Send(HttpMethod.Delete, "/api/v1/admin/artifacts/orphans?olderThan=0s");
        var malformed = await Host.Send(HttpMethod.Delete, "/api/v1/admin/artifacts/orphans?olderThan=yesterday");

        Assert.Equal(200, listed.Status);
        Assert.Equal([orphan], listed.Body!["orphans"]!.AsArray().Select(o => o!["sha256"]!.GetValue<string>()));
        Assert.Equal(700, listed.Body["totalBytes"]!.GetValue<long>());
        Assert.Empty(withinGrace.Body!["deleted"]!.AsArray());
        Assert.Equal(1, withinGrace.Body["keptWithinGracePeriod"]!.GetValue<int>());
        Assert.Single(stillListed.Body!["orphans"]!.AsArray());
        Assert.Equal([orphan], swept.Body!["deleted"]!.AsArray().Select(o => o!["sha256"]!.GetValue<string>()));
        Assert.Equal(400, malformed.Status);
        Assert.Equal([$"sha256/{used}"], await StoredNames());
        Assert.Equal(200, (await Host.Get($"/api/v1/artifacts/{used}/verify")).Status);
    }

    /// <summary>Size of the acceptance upload: the 200 MB on the default backend.</summary>
    protected virtual long AcceptanceBytes => 200L * 1000 * 1000;

    /// <summary>
    /// The acceptance: a file of random bytes (seeded, generated as it is written), streamed up. The
    /// returned digest equals sha256sum's and one computed independently while the file was written, the
    /// download is byte-identical (compared by streaming hash), and a second upload answers 200 and stores no
    /// second copy.
    /// </summary>
    [Fact]
    public async Task a_large_random_upload_matches_sha256sum_downloads_identically_and_deduplicates()
    {
        var size = AcceptanceBytes;
        var file = Path.Combine(Path.GetTempPath(), $"esr-acceptance-{Guid.NewGuid():N}.bin");
        try
        {
            string independent;
            await using (var output = File.Create(file))
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var generator = new SeededContentStream(200, size);
                var buffer = new byte[1024 * 1024];
                int n;
                while ((n = await generator.ReadAsync(buffer)) > 0)
                {
                    sha.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n));
                }
                independent = Convert.ToHexStringLower(sha.GetHashAndReset());
            }
            var sha256sum = await Sha256Sum(file);
            output.WriteLine($"{size} bytes: sha256sum {sha256sum}, independent {independent}");

            RegistryCalls.Response first, second;
            await using (var upload = File.OpenRead(file)) first = await Host.Upload(upload);
            await using (var upload = File.OpenRead(file)) second = await Host.Upload(upload);

            output.WriteLine($"upload: {first.Status} {first.Body?.ToJsonString()}; again: {second.Status}");
            Assert.Equal(201, first.Status);
            Assert.Equal(independent, sha256sum);
            Assert.Equal(sha256sum, first.Body!["sha256"]!.GetValue<string>());
            Assert.Equal(size, first.Body["sizeBytes"]!.GetValue<long>());
            Assert.Equal(200, second.Status);
            Assert.Equal([$"sha256/{sha256sum}"], await StoredNames());

            using var download = await Host.Download($"/api/v1/artifacts/{sha256sum}");
            Assert.Equal(200, (int)download.StatusCode);
            Assert.Equal(size, download.Content.Headers.ContentLength);
            await using var body = await download.Content.ReadAsStreamAsync();
            Assert.Equal(sha256sum, await TestContent.Sha256(body));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> Sha256Sum(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("sha256sum") { ArgumentList = { path }, RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return output.Split(' ')[0];
    }

    [GeneratedRegex("^sha256/[0-9a-f]{64}$")]
    private static partial Regex StorageName();
}
