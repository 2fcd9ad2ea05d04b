using Broker.LoadTest;

return await LoadTestRunner.RunAsync(args, Console.Out, CancellationToken.None);
