using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Cli;

namespace EventSourcedRegistry.Api.Tests.Cli;

/// <summary>Runs <c>esr</c>'s command tree in-process, its client wired to the shared app host.</summary>
public sealed class when_running_esr(AppFixture app) : ApiTest(app)
{
    private Task<EsrRunner.Run> Esr(params string[] args) => EsrRunner.Esr(Host.Client(), args);

    /// <summary>esr against the host with no credentials but what the command line or the environment gives.</summary>
    private Task<EsrRunner.Run> EsrWithoutAdminKey(params string[] args) => EsrRunner.Esr(Host.AnonymousClient(), args);

    [Fact]
    public async Task a_pipeline_registers_uploads_and_promotes_with_json_output()
    {
        Assert.Equal(0, (await Esr("models", "register", "churn", "--tag", "team=growth")).ExitCode);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, new byte[200_000]);
            var registered = await Esr("versions", "register", "churn", "--artifact", file, "--run-id", "42", "--commit", "abc123",
                "--metric", "auc=0.91", "--param", "lr=0.1", "--output", "json");
            Assert.Equal(0, registered.ExitCode);
            Assert.Equal(1, registered.Json.GetProperty("version").GetInt32());
            Assert.Equal(0.91, registered.Json.GetProperty("metrics").GetProperty("auc").GetDouble());
            Assert.Equal("42", registered.Json.GetProperty("lineage").GetProperty("runId").GetString());

            Assert.Equal(0, (await Esr("stage", "churn", "1", "Production", "--reason", "first")).ExitCode);
            Assert.Equal(0, (await Esr("alias", "set", "churn", "champion", "1")).ExitCode);

            var state = await Esr("state", "churn", "-o", "json");
            Assert.Equal(1, state.Json.GetProperty("aliases").GetProperty("champion").GetInt32());
            Assert.Equal(1, state.Json.GetProperty("versionsByStage").GetProperty("Production")[0].GetInt32());

            var sha = registered.Json.GetProperty("artifact").GetProperty("sha256").GetString()!;
            var copy = file + ".copy";
            Assert.Equal(0, (await Esr("artifacts", "download", sha, "--out", copy, "-o", "json")).ExitCode);
            Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(copy));
            File.Delete(copy);

            var table = await Esr("versions", "list", "churn");
            Assert.Equal(0, table.ExitCode);
            Assert.Contains("Production", table.Console);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task a_wrong_model_name_exits_2_with_the_servers_message()
    {
        var run = await Esr("state", "nope");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("No model is registered under the name 'nope'", run.Error);
    }

    [Fact]
    public async Task a_name_taken_exits_3_and_bad_usage_exits_1()
    {
        await Esr("models", "register", "churn");
        var taken = await Esr("models", "register", "CHURN");
        Assert.Equal(3, taken.ExitCode);
        Assert.Contains("already exists", taken.Error);

        Assert.Equal(1, (await Esr("stage", "churn")).ExitCode);
        Assert.Equal(1, (await Esr("models", "frobnicate")).ExitCode);
        Assert.Equal(1, (await Esr("versions", "register", "churn", "--artifact", "not-a-file-or-uri")).ExitCode);
    }

    [Fact]
    public async Task a_rollback_dry_run_prints_the_plan_as_a_table()
    {
        await Esr("models", "register", "churn");
        await Esr("versions", "register", "churn", "--artifact", "s3://m/1.onnx", "--sha256", RegistryCalls.Sha256A);
        await Esr("stage", "churn", "1", "Production");
        var before = (await Esr("history", "churn", "-o", "json")).Json.GetProperty("items").EnumerateArray().Last().GetProperty("sequence").GetInt64();
        await Esr("versions", "register", "churn", "--artifact", "s3://m/2.onnx", "--sha256", RegistryCalls.Sha256B);
        await Esr("stage", "churn", "2", "Production", "--archive-existing");
        await App.WaitForHighWaterMark();

        var plan = await Esr("rollback", "churn", "--to", before.ToString(), "--reason", "v2 regressed", "--dry-run");
        Assert.Equal(0, plan.ExitCode);
        Assert.Contains("dry run", plan.Console);
        Assert.Contains("Subject", plan.Console);

        var json = await Esr("rollback", "churn", "--to", before.ToString(), "--reason", "v2 regressed", "--dry-run", "-o", "json");
        Assert.True(json.Json.GetProperty("dryRun").GetBoolean());
        Assert.NotEqual(0, json.Json.GetProperty("plan").GetArrayLength());

        var registry = await Esr("registry", "--at-sequence", before.ToString(), "-o", "json");
        Assert.Equal(before, registry.Json.GetProperty("asOfSequence").GetInt64());
        Assert.Equal(0, (await Esr("changes", "--from", "0", "-o", "json")).ExitCode);
        Assert.Equal(0, (await Esr("verify")).ExitCode);
    }

    [Fact]
    public async Task an_admin_creates_lists_and_revokes_keys_and_a_pipeline_uses_its_key()
    {
        await Host.RegisterModel("churn");
        var created = await Esr("keys", "create", "churn-ci", "--owner", "churn-team", "--grant", "contributor:churn", "--output", "json");
        Assert.Equal(0, created.ExitCode);
        var key = created.Json.GetProperty("key").GetString()!;
        var id = created.Json.GetProperty("id").GetString()!;
        Assert.Equal("contributor", created.Json.GetProperty("grants")[0].GetProperty("role").GetString());
        Assert.Equal("churn-team", created.Json.GetProperty("owner").GetString());
        Assert.Equal(ExitCodes.Usage, (await Esr("keys", "create", "no-owner", "--grant", "reader")).ExitCode);

        var registered = await EsrWithoutAdminKey("versions", "register", "churn", "--artifact", "s3://m/churn.onnx", "--sha256", RegistryCalls.Sha256A,
            "--api-key", key, "--output", "json");
        Assert.True(registered.ExitCode == 0, registered.Error);
        Assert.Equal("key:churn-ci", (await Store.EventsOf("churn")).Last().UserName);

        var listed = await Esr("keys", "list");
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("churn-ci", listed.Console);
        Assert.Contains("owner", listed.Console);
        Assert.DoesNotContain(key, listed.Console);
        var inJson = (await Esr("keys", "list", "--output", "json")).Json.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.Equal("churn-team", inJson.GetProperty("owner").GetString());

        Assert.Equal(0, (await Esr("keys", "revoke", id)).ExitCode);
        var refused = await EsrWithoutAdminKey("models", "show", "churn", "--api-key", key);
        Assert.Equal(ExitCodes.Failed, refused.ExitCode);
        Assert.Contains("401", refused.Error);
        Assert.Contains("ESR_API_KEY", refused.Error);
    }

    [Fact]
    public async Task without_a_key_esr_says_how_to_give_one()
    {
        var run = await EsrWithoutAdminKey("models", "list");
        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.Contains("401", run.Error);
        Assert.Contains("--api-key", run.Error);
    }
}
