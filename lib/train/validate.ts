// Validation: each held-out image predicted whole by overlap-tile, scored against its labels.
import { tidy } from '../memory';
import { type ImageScores, meanScores, scoreImage } from '../metrics/evaluate';
import { native } from '../native';
import { predictLogits, type PredictOptions } from '../predict/overlap-tile';
import type { TrainingSample } from '../data/dataset';
import type { Tensor } from '../tensor';
import type { UNet } from '../unet/model';
import { weightedCrossEntropy } from '../weightmap/loss';

/** Mean scores over the validation images (the instance scores for 2-class networks only), and the mean loss. */
export type ValidationScores = Omit<ImageScores, 'name'> & { loss: number };

/** Predicted instances of a 2-class network: the connected components of the foreground. */
export function instancesOfClasses(classes: Tensor): Tensor {
  return tidy(() => native.connectedComponents(classes.eq(1), 4));
}

export function validate(model: UNet, samples: TrainingSample[], options: PredictOptions = {}): ValidationScores {
  const classes = model.options.classes;
  let loss = 0;
  const scores = samples.map((sample) =>
    tidy(() => {
      const logits = predictLogits(model, sample.image, options);
      loss += weightedCrossEntropy(logits.unsqueeze(0), sample.target.unsqueeze(0), sample.weights.unsqueeze(0)).item() as number;
      const predicted = logits.argmax(0);
      return classes === 2 ? scoreImage(sample.name, instancesOfClasses(predicted), sample.instances) : scoreImage(sample.name, predicted, sample.target, classes);
    }),
  );
  return { loss: loss / samples.length, ...meanScores(scores) };
}
