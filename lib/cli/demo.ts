import { torch } from '../index';
import { defineCommand } from './command';

/** `unet demo` */
export const demoCommand = defineCommand({
  name: 'demo',
  synopsis: '',
  flags: {},
  run: demo,
});

function demo(): number {
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const facts = torch.info();
  say(`libtorch ${facts.libtorchVersion} (${facts.cudaBuild ? 'CUDA build' : 'CPU build'}), CUDA available: ${facts.cudaAvailable}`);
  torch.manualSeed(0);
  const device = torch.cuda.isAvailable() ? 'cuda' : 'cpu';
  torch.tidy(() => {
    const a = torch.randn([2, 3], { device });
    say(`a = torch.randn([2, 3]) after torch.manualSeed(0):\n${a}`);
    const w = torch.tensor(
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      { dtype: 'float32', device, requiresGrad: true },
    );
    const loss = a.matmul(w).mul(a.matmul(w)).mean();
    loss.backward();
    say(`loss = mean((a @ w)^2) = ${Number(loss.item()).toFixed(4)}`);
    say(`d loss / d w =\n${w.grad}`);
  });
  say(`live tensors after tidy(): ${torch.memory().liveTensors}`);
  return 0;
}
