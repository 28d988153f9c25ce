using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Audit;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Audit;

public sealed class when_signing_checkpoints(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_checkpoint_signs_the_verified_head_and_verifies_with_the_exported_public_key()
    {
        await SomeHistory();
        var verdict = await Host.Verify();

        var created = await Host.Post("/api/v1/audit/checkpoints", null);
        Assert.Equal(201, created.Status);
        var checkpoint = created.Body!;
        var key = await Host.Get("/api/v1/audit/public-key");
        var pem = key.Body!.GetValue<string>();

        Assert.Equal(verdict["headSequence"]!.GetValue<long>(), checkpoint["sequence"]!.GetValue<long>());
        Assert.Equal(verdict["head"]!.GetValue<string>(), checkpoint["head"]!.GetValue<string>());
        Assert.Equal(key.Header("X-Key-Id"), checkpoint["keyId"]!.GetValue<string>());
        var signedAt = checkpoint["signedAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal(
            $"esr-audit-checkpoint/v2 workspace=default sequence={checkpoint["sequence"]} head={checkpoint["head"]} " +
            $"signedAt={signedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'} keyId={checkpoint["keyId"]}",
            checkpoint["message"]!.GetValue<string>());
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem);

        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(pem);
        var message = Encoding.ASCII.GetBytes(checkpoint["message"]!.GetValue<string>());
        var signature = Convert.FromBase64String(checkpoint["signature"]!.GetValue<string>());
        Assert.True(publicKey.VerifyData(message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        message[^1] ^= 1;
        Assert.False(publicKey.VerifyData(message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    /// <summary>The promise of docs/auditing.md, run as written: <c>openssl dgst -sha256 -verify pub.pem -signature sig.bin msg.bin</c>.</summary>
    [Fact]
    public async Task openssl_verifies_a_checkpoint_with_the_command_the_readme_gives()
    {
        await SomeHistory();
        var checkpoint = (await Host.Post("/api/v1/audit/checkpoints", null)).Body!;
        var pem = (await Host.Get("/api/v1/audit/public-key")).Body!.GetValue<string>();
        var directory = Directory.CreateTempSubdirectory("esr-openssl-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "pub.pem"), pem);
            await File.WriteAllBytesAsync(Path.Combine(directory.FullName, "sig.bin"), Convert.FromBase64String(checkpoint["signature"]!.GetValue<string>()));
            await File.WriteAllBytesAsync(Path.Combine(directory.FullName, "msg.bin"), Encoding.ASCII.GetBytes(checkpoint["message"]!.GetValue<string>()));

            var genuine = await OpenSsl(directory.FullName, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "msg.bin");
            if (genuine is null) return; // no openssl on PATH: the .NET verification above still stands

            Assert.Equal((0, "Verified OK"), (genuine.Value.ExitCode, genuine.Value.Output.Trim()));

            var forged = checkpoint["message"]!.GetValue<string>().Replace("head=", "head=0");
            await File.WriteAllBytesAsync(Path.Combine(directory.FullName, "msg.bin"), Encoding.ASCII.GetBytes(forged));
            var refused = await OpenSsl(directory.FullName, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "msg.bin");
            Assert.Equal(1, refused!.Value.ExitCode);
            Assert.Contains("Verification failure", refused.Value.Output);

            var keyId = await OpenSslKeyId(directory.FullName);
            if (keyId is not null) Assert.Equal(checkpoint["keyId"]!.GetValue<string>(), keyId);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task signing_again_without_new_events_returns_the_same_checkpoint_and_the_list_is_newest_first()
    {
        await SomeHistory();
        var first = await Host.Post("/api/v1/audit/checkpoints", null);
        var again = await Host.Post("/api/v1/audit/checkpoints", null);
        await Host.RegisterVersion("churn");
        await Store.WaitForAuditTrail();
        var later = await Host.Post("/api/v1/audit/checkpoints", null);

        Assert.Equal((201, 200, 201), (first.Status, again.Status, later.Status));
        Assert.Equal(first.Body!["signature"]!.GetValue<string>(), again.Body!["signature"]!.GetValue<string>());
        var list = (await Host.Get("/api/v1/audit/checkpoints")).Body!["items"]!.AsArray();
        Assert.Equal([later.Body!["sequence"]!.GetValue<long>(), first.Body["sequence"]!.GetValue<long>()],
            list.Select(c => c!["sequence"]!.GetValue<long>()));
        // An incremental check starts at the newest checkpoint (and checks it); a full one compares both.
        Assert.Equal(1, (await Host.Verify())["checkpoints"]!.GetValue<int>());
        Assert.Equal(2, (await Host.Get("/api/v1/audit/verify?full=true")).Body!["checkpoints"]!.GetValue<int>());
    }

    /// <summary>
    /// A manual signing racing another (or the scheduled job on another node) over the same head: every request answers the
    /// one checkpoint (201 once, 200 for the others), never a 500, and the operator's chain links it once.
    /// </summary>
    [Fact]
    public async Task signings_of_the_same_head_at_once_answer_one_checkpoint_and_link_it_once()
    {
        await SomeHistory();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Host.Post("/api/v1/audit/checkpoints", null)));

        Assert.All(answers, a => Assert.Contains(a.Status, new[] { 200, 201 }));
        Assert.Single(answers, a => a.Status == 201);
        Assert.Single(answers.Select(a => a.Body!["signature"]!.GetValue<string>()).Distinct());
        var sequence = answers[0].Body!["sequence"]!.GetValue<long>();
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var links = new NpgsqlCommand($"select count(*) from {AuditTrail.OperatorChainTable} where workspace = 'default' and sequence = $1", connection);
        links.Parameters.Add(new NpgsqlParameter { Value = sequence });
        Assert.Equal(1L, (long)(await links.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task nothing_is_signed_over_a_chain_that_does_not_verify()
    {
        var sequences = await SomeHistory();
        await App.Sql("update registry.mt_events set data = jsonb_set(data, '{name}', '\"evil\"') where seq_id = $1", sequences[0]);

        var refused = await Host.Post("/api/v1/audit/checkpoints", null);

        Assert.Equal(409, refused.Status);
        Assert.Contains($"Event {sequences[0]} differs", refused.Body!["detail"]!.GetValue<string>());
        Assert.Empty((await Host.Get("/api/v1/audit/checkpoints")).Body!["items"]!.AsArray());
    }

    /// <summary>
    /// Someone with write access to the database changes an event and recomputes every later link, so the stored
    /// chain is consistent again. The checkpoint signed before still names the old head: verification fails there.
    /// Deleting the stored checkpoints too defeats the database's own copy, but not the auditor's copy kept outside.
    /// </summary>
    [Fact]
    public async Task rewriting_history_and_the_chain_is_caught_by_a_checkpoint_kept_outside_the_database()
    {
        var sequences = await SomeHistory();
        var checkpoint = (await Host.Post("/api/v1/audit/checkpoints", null)).Body!;
        var (sequence, head) = (checkpoint["sequence"]!.GetValue<long>(), checkpoint["head"]!.GetValue<string>());
        Assert.True((await Host.Get($"/api/v1/audit/verify?sequence={sequence}&head={head}")).Body!["verified"]!.GetValue<bool>());

        await App.Sql("update registry.mt_events set data = jsonb_set(data, '{description}', '\"rewritten\"') where seq_id = $1", sequences[0]);
        await RecomputeChain();
        var caughtByStoredCheckpoint = await Host.Verify();
        await App.Sql("delete from registry.mt_doc_auditcheckpoint");
        var withoutStoredCheckpoints = await Host.Verify();
        var caughtByExternalCheckpoint = (await Host.Get($"/api/v1/audit/verify?sequence={sequence}&head={head}")).Body!;

        Assert.False(caughtByStoredCheckpoint["verified"]!.GetValue<bool>());
        Assert.Equal(sequence, caughtByStoredCheckpoint["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("rewritten", caughtByStoredCheckpoint["problem"]!.GetValue<string>());
        Assert.True(withoutStoredCheckpoints["verified"]!.GetValue<bool>());
        Assert.False(caughtByExternalCheckpoint["verified"]!.GetValue<bool>());
        Assert.Equal(sequence, caughtByExternalCheckpoint["firstBrokenSequence"]!.GetValue<long>());
    }

    [Fact]
    public void the_signing_key_file_is_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.True(File.Exists(App.SigningKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(App.SigningKeyPath));
    }

    private async Task<List<long>> SomeHistory()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production", reason: "first release");
        await Store.WaitForAuditTrail();
        return await App.Sequences();
    }

    /// <summary>What an informed attacker would run: every link recomputed from the (altered) events.</summary>
    private async Task RecomputeChain()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var links = new List<(long Sequence, byte[] Hash)>();
        await using (var command = new NpgsqlCommand($"select {ChainLink.Columns} from registry.mt_events e order by e.seq_id", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            var previous = ChainLink.Genesis;
            var scratch = new ArrayBufferWriter<byte>();
            while (await reader.ReadAsync())
            {
                var stored = ChainLink.Read(reader);
                previous = ChainLink.Next(previous, stored, scratch);
                links.Add((stored.Sequence, previous));
            }
        }
        foreach (var (sequence, hash) in links)
        {
            await using var update = new NpgsqlCommand("update registry.audit_chain set hash = $1 where seq_id = $2", connection);
            update.Parameters.Add(new NpgsqlParameter { Value = hash });
            update.Parameters.Add(new NpgsqlParameter { Value = sequence });
            await update.ExecuteNonQueryAsync();
        }
    }

    private static async Task<(int ExitCode, string Output)?> OpenSsl(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await error);
        }
        catch (Win32Exception)
        {
            return null;
        }
    }

    /// <summary>The key id recipe of docs/auditing.md: <c>openssl pkey -pubin -in pub.pem -outform DER | sha256sum | cut -c1-16</c>.</summary>
    private static async Task<string?> OpenSslKeyId(string directory)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = directory, RedirectStandardOutput = true };
        foreach (var argument in new[] { "pkey", "-pubin", "-in", "pub.pem", "-outform", "DER" }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        using var der = new MemoryStream();
        await process.StandardOutput.BaseStream.CopyToAsync(der);
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? Convert.ToHexStringLower(SHA256.HashData(der.ToArray()))[..16] : null;
    }
}
