/** One hand-crafted prompt template per dataset (DPT's CUSTOM_TEMPLATES, DPT.py:25-41); `{}` is the class name. */
export const TEMPLATES = {
  OxfordPets: 'a photo of a {}, a type of pet.',
  OxfordFlowers: 'a photo of a {}, a type of flower.',
  FGVCAircraft: 'a photo of a {}, a type of aircraft.',
  DescribableTextures: '{} texture.',
  EuroSAT: 'a centered satellite photo of {}.',
  StanfordCars: 'a photo of a {}.',
  Food101: 'a photo of {}, a type of food.',
  SUN397: 'a photo of a {}.',
  Caltech101: 'a photo of a {}.',
  UCF101: 'a photo of a person doing {}.',
  ImageNet: 'a photo of a {}.',
  ImageNetSketch: 'a photo of a {}.',
  ImageNetV2: 'a photo of a {}.',
  ImageNetA: 'a photo of a {}.',
  ImageNetR: 'a photo of a {}.',
} as const satisfies Record<string, string>;

export type TemplateDataset = keyof typeof TEMPLATES;

/** The prompt for one class: `_` in class names becomes a space, as in DPT/CoOp. */
export function fillTemplate(template: string, classname: string): string {
  if (!template.includes('{}')) throw new Error(`template "${template}" has no {} placeholder`);
  return template.replace('{}', classname.replaceAll('_', ' '));
}
