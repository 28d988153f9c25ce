using EventSourcedRegistry.Cli;
using Spectre.Console;

return await EsrApp.RunAsync(args, CliEnvironment.ForConsole(AnsiConsole.Console));
