// Each test here starts real server processes and drives them hard on a machine of few cores: run one at a time, so
// the smoke run and the short soak do not slow each other past their deadlines.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
