import 'reflect-metadata';
import { getMetadataStorage, IsInt, IsString, validate } from 'class-validator';
import { cacheValidationMetadata } from './validation-cache.js';

describe('cacheValidationMetadata', () => {
  beforeAll(() => cacheValidationMetadata());

  it('answers what class-validator answers, inherited members included, and is idempotent', async () => {
    class Base {
      @IsString()
      name!: unknown;
    }
    class Child extends Base {
      @IsInt()
      count!: unknown;
    }
    cacheValidationMetadata();
    const storage = getMetadataStorage();
    const first = storage.getTargetValidationMetadatas(Child, '', false, false);
    expect(first.map((m) => m.propertyName).sort()).toEqual(['count', 'name']);
    expect(storage.getTargetValidationMetadatas(Child, '', false, false)).toBe(first);
    const child = Object.assign(new Child(), { name: 1, count: 'x' });
    expect((await validate(child)).map((e) => e.property).sort()).toEqual(['count', 'name']);
  });

  it('forgets what it remembered when metadata is added (a class defined later extends a cached one)', async () => {
    class Parent {
      @IsString()
      a!: unknown;
    }
    const storage = getMetadataStorage();
    expect(storage.getTargetValidationMetadatas(Parent, '', false, false)).toHaveLength(1);
    // Decorating a member after the first look-up: the next one sees it.
    IsInt()(Parent.prototype, 'b');
    expect(storage.getTargetValidationMetadatas(Parent, '', false, false).map((m) => m.propertyName).sort()).toEqual(['a', 'b']);
    expect((await validate(Object.assign(new Parent(), { a: 'ok', b: 'no' }))).map((e) => e.property)).toEqual(['b']);
  });
});
