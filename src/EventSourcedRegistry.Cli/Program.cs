using Spectre.Console;

namespace EventSourcedRegistry.Cli;

public static class EsrProgram
{
    // A named entry point rather than top-level statements: tests reference this assembly beside the API's Program.
    public static Task<int> Main(string[] args) => EsrApp.RunAsync(args, CliEnvironment.ForConsole(
        ConsoleWidth.Apply(AnsiConsole.Console, Environment.GetEnvironmentVariable(ConsoleWidth.ColumnsVariable), isTerminal: !Console.IsOutputRedirected)));
}
