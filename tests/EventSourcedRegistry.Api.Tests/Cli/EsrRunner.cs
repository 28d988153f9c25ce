using System.Text.Json;
using EventSourcedRegistry.Cli;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;

namespace EventSourcedRegistry.Api.Tests.Cli;

/// <summary>
/// Runs <c>esr</c>'s command tree in-process, its client wired to a test host through <paramref name="http"/>, its
/// console drawn as esr draws it into a pipe (<see cref="ConsoleWidth"/>, with <c>COLUMNS</c> as given).
/// </summary>
public static class EsrRunner
{
    public sealed record Run(int ExitCode, string Out, string Error, string Console)
    {
        public JsonElement Json => JsonDocument.Parse(Out).RootElement;
        public override string ToString() => $"exit {ExitCode}; out: {Out}; error: {Error}; console: {Console}";
    }

    public static async Task<Run> Esr(HttpClient http, string[] args, string? columns = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(screen),
        });
        var env = new CliEnvironment
        {
            Console = ConsoleWidth.Apply(console, columns, isTerminal: false),
            Out = stdout,
            Error = stderr,
            ClientFor = (_, apiKey, workspace) => new RegistryClient(new RegistryClientOptions { HttpClient = http, ApiKey = apiKey, Workspace = workspace }),
        };
        var code = await EsrApp.RunAsync(args, env);
        return new Run(code, stdout.ToString(), stderr.ToString(), screen.ToString());
    }
}
