package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

/**
 * The launcher records its AOT cache from this training run and keeps it only when the run
 * succeeds: a training that throws leaves every CLI command without a cache and re-running the
 * training (~1.5 s each). It did, unnoticed, after VmSummary gained restartCount.
 */
class AotTrainingTest {
  @Test
  void bothTrainingsRunToTheEnd() {
    assertThatCode(() -> AotTraining.main(new String[] {"hot"})).doesNotThrowAnyException();
    assertThatCode(() -> AotTraining.main(new String[] {"all"})).doesNotThrowAnyException();
  }
}
