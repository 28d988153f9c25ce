using System.Text.Json;
using Alba;
using EventSourcedRegistry.Cli;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>What one run of esr did: its exit code, stdout (raw JSON with -o json), stderr and the rendered console.</summary>
public sealed record EsrRun(int ExitCode, string Out, string Error, string Console)
{
    public JsonElement Json => JsonDocument.Parse(Out).RootElement;

    public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Error}\nconsole: {Console}";
}

/// <summary>Runs esr's command tree in-process, its client wired to a test host with the admin key.</summary>
public static class EsrRunner
{
    public static Task<EsrRun> Esr(this IAlbaHost host, params string[] args) => host.Client().Esr(args);

    /// <summary>Runs esr with its client sending through <paramref name="http"/> (its headers, its key unless --api-key is given).</summary>
    public static async Task<EsrRun> Esr(this HttpClient http, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var screen = new StringWriter();
        var env = new CliEnvironment
        {
            Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(screen),
            }),
            Out = stdout,
            Error = stderr,
            ClientFor = (_, apiKey, workspace) => new RegistryClient(new RegistryClientOptions { HttpClient = http, ApiKey = apiKey, Workspace = workspace }),
        };
        var code = await EsrApp.RunAsync(args, env);
        return new EsrRun(code, stdout.ToString(), stderr.ToString(), screen.ToString());
    }
}
